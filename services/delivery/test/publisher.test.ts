import { describe, expect, it } from "vitest";
import type { Database } from "@runhooks/db";
import { createCounters, createPublisher, type PublishableAttempt } from "@runhooks/delivery";
import type { Producer } from "kafkajs";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function attempt(n: number): PublishableAttempt {
  return {
    rowId: BigInt(n),
    deliveryId: "9b1f1a8c-2a8e-4f00-8a77-3f1d5d0c9e01",
    windowId: "3f1d5d0c-9e01-4f00-8a77-9b1f1a8c2a8e",
    ruleId: "d75d7417-0c57-4655-88fe-1db3cda3a47a",
    webhookId: "6ab80f10-d79c-4fa2-b441-922ed6feb630",
    url: "https://example.com/hook?secret=***",
    attempt: n,
    trigger: "scheduled",
    startedAt: new Date(0),
    durationMs: 1,
    outcome: "success",
    statusCode: 200,
    error: null,
    responseExcerpt: null,
  };
}

describe("the attempts publisher", () => {
  it("marks every published row, also when rows arrive while a slow mark runs", async () => {
    const sent: string[] = [];
    const marked: string[] = [];
    const producer = { send: ({ messages }: { messages: { key: string }[] }) => (sent.push(...messages.map((m) => m.key)), Promise.resolve([])) };
    // A slow database: each mark takes 80 ms; the ids are the query's first array parameter.
    const db = {
      query: async (q: { values?: unknown[] } & Record<string, unknown>) => {
        await sleep(80);
        const text = JSON.stringify(q, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
        for (const m of text.matchAll(/"(\d+)"/g)) marked.push(m[1]!);
        return [];
      },
    };
    const publisher = createPublisher({
      db: db as unknown as Database,
      producer: producer as unknown as Producer,
      topic: "t",
      log: () => undefined,
      counters: createCounters(),
      maxBacklog: 1000,
      markEveryMs: 10,
    });
    publisher.publish([attempt(1), attempt(2)]);
    await sleep(30); // the first mark is running
    publisher.publish([attempt(3)]);
    await sleep(30); // its timer fires while that mark still runs
    await sleep(200);
    publisher.publish([attempt(4)]);
    // Whatever the machine's speed: everything published is sent and marked once drained.
    await publisher.drain();
    expect(sent).toHaveLength(4);
    expect(new Set(marked)).toEqual(new Set(["1", "2", "3", "4"]));
  });
});
