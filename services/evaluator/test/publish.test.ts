import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import type { Message } from "kafkajs";
import { describe, expect, it } from "vitest";
import { createKafka, joinSlices, slicedValue, snappyPieces, valueSlices, type RecordSetPiece } from "@runhooks/kafka";
import { BUNDLE_BYTES } from "../src/part-bundle.js";
import { partMessageValue, windowMessages } from "../src/part-message.js";
import { byteBudgetChunks, PARTITION_BUDGET_BYTES } from "../src/send-chunks.js";

/** kafkajs' own record batch encoder (v2 records, as it produces them): the bytes the broker checks. */
const kafkajsRequire = createRequire(createRequire(import.meta.url).resolve("kafkajs"));
const { RecordBatch } = kafkajsRequire("./src/protocol/recordBatch/v0/index.js") as {
  RecordBatch: (o: { compression: number; records: unknown[] }) => Promise<{ buffer: Buffer }>;
};
const Record = kafkajsRequire("./src/protocol/recordBatch/record/v0/index.js") as (o: {
  offsetDelta: number;
  key: Buffer;
  value: unknown;
  headers: Message["headers"];
}) => unknown;
/** The broker's default `message.max.bytes`. */
const BROKER_BATCH_LIMIT = 1_048_588;

describe("publishing within the broker's batch limit", () => {
  const msg = (n: number, partition?: number) => ({
    value: "x".repeat(n),
    ...(partition === undefined ? {} : { partition }),
  });
  const sizes = (chunks: ReturnType<typeof byteBudgetChunks>) =>
    chunks.map((c) =>
      c.map((t) => [t.topic, t.messages.map((m) => `${m.partition ?? "?"}:${String(m.value).length}`)]),
    );

  it("splits sends so that no topic-partition gets more than the budget in one send, keeping order", () => {
    const chunks = byteBudgetChunks(
      [
        { topic: "dlq", messages: [msg(300, 0)] },
        { topic: "windows", messages: [msg(400, 0), msg(400, 1), msg(400, 0), msg(100, 1), msg(900, 0)] },
      ],
      1000,
    );
    expect(sizes(chunks)).toEqual([
      [
        ["dlq", ["0:300"]],
        ["windows", ["0:400", "1:400", "0:400", "1:100"]],
      ],
      [["windows", ["0:900"]]],
    ]);
  });

  it("counts messages without a partition as one partition of their topic", () => {
    const chunks = byteBudgetChunks([{ topic: "w", messages: [msg(600), msg(600), msg(600, 2)] }], 1000);
    expect(sizes(chunks)).toEqual([[["w", ["?:600"]]], [["w", ["?:600", "2:600"]]]]);
  });

  it("keeps a send under its total budget too", () => {
    const chunks = byteBudgetChunks([{ topic: "w", messages: [msg(600, 0), msg(600, 1), msg(600, 2)] }], 1000, 1500);
    expect(sizes(chunks)).toEqual([[["w", ["0:600", "1:600"]]], [["w", ["2:600"]]]]);
  });

  it("sends a message bigger than the budget on its own", () => {
    const chunks = byteBudgetChunks([{ topic: "w", messages: [msg(10, 0), msg(5000, 0), msg(10, 0)] }], 1000);
    expect(chunks.map((c) => c.flatMap((t) => t.messages.map((m) => String(m.value).length)))).toEqual([
      [10],
      [5000],
      [10],
    ]);
  });

  it("counts a part's runs another part of the batch holds by their copies: parts sharing runs share a batch", () => {
    createKafka({ brokers: ["127.0.0.1:1"], clientId: "chunks" });
    const runs = Array.from({ length: 10 }, (_, i) => Buffer.from(`{"id":"${i}","text":"${"x".repeat(2000)}"}`));
    const part = (k: number) => ({ partition: 0, value: slicedValue(Buffer.from(`{"part":${k},"runs":[`), runs) });
    const messages = Array.from({ length: 20 }, (_, k) => part(k));
    // 20 parts of ~20 KB: 400 KB of values, each run compressed once and copied 19 times in one batch.
    const [first, ...rest] = byteBudgetChunks([{ topic: "w", messages }], 100_000);
    expect(first?.[0]?.messages).toHaveLength(20);
    expect(rest).toEqual([]);
    const wire = snappyPieces(messages.map((m) => valueSlices(m.value) as RecordSetPiece));
    expect(wire.length).toBeLessThan(100_000);
    // Parts with runs of their own fill the budget as their compressed size at most would.
    const own = Array.from({ length: 20 }, (_, k) => ({
      partition: 0,
      value: slicedValue(Buffer.from("{"), [Buffer.from(`{"id":"${k}","text":"${"y".repeat(20_000)}"}`)]),
    }));
    expect(byteBudgetChunks([{ topic: "w", messages: own }], 100_000).length).toBeGreaterThan(3);
  });

  it("keeps a Snappy batch of many small parts under the broker's limit: keys and headers count", async () => {
    createKafka({ brokers: ["127.0.0.1:1"], clientId: "chunks" });
    // A window boundary where thousands of rule versions each close a part of one small shared run.
    const runs = Array.from({ length: 50 }, (_, i) => ({
      offset: i,
      runId: randomUUID(),
      json: Buffer.from(`{"id":"${randomUUID()}","x":"${"a".repeat(300)}"}`),
      time: 1_765_000_000_000 + i,
    }));
    const messages: Message[] = Array.from({ length: 6000 }, (_, k) => {
      const part = {
        partId: randomUUID(),
        ruleId: randomUUID(),
        ruleVersion: 1,
        tenantId: randomUUID(),
        maxRuns: 100,
        partition: 3,
        piece: 0,
        startMs: 1_765_000_000_000,
        endMs: 1_765_000_060_000,
        runs: [runs[k % runs.length]!],
        reason: "time" as const,
        closedAt: 5,
      };
      return {
        partition: 0,
        key: part.ruleId,
        value: partMessageValue(part),
        headers: { "runhooks-kind": "part", "runhooks-part-id": part.partId },
      };
    });
    const chunks = byteBudgetChunks([{ topic: "w", messages }], PARTITION_BUDGET_BYTES);
    expect(chunks.length).toBeGreaterThan(1);
    for (const [sent] of chunks) {
      const records = sent!.messages.map((m, i) =>
        Record({ offsetDelta: i, key: Buffer.from(m.key as string), value: m.value, headers: m.headers }),
      );
      const batch = await RecordBatch({ compression: 2, records });
      expect(batch.buffer.length).toBeLessThan(BROKER_BATCH_LIMIT);
    }
  });

  it("keeps bundles and their Snappy batches under the broker's limit, each run once per bundle", async () => {
    createKafka({ brokers: ["127.0.0.1:1"], clientId: "chunks" });
    // A window boundary where thousands of rule versions each close a part of a few shared runs of 2 KB.
    const runs = Array.from({ length: 100 }, (_, i) => ({
      offset: i,
      runId: randomUUID(),
      json: Buffer.from(`{"id":"${randomUUID()}","x":"${"a".repeat(2000)}"}`),
      time: 1_765_000_000_000 + i,
    }));
    const parts = Array.from({ length: 6000 }, (_, k) => ({
      part: {
        partId: randomUUID(),
        ruleId: randomUUID(),
        ruleVersion: 1,
        tenantId: randomUUID(),
        maxRuns: 100,
        partition: 3,
        piece: 0,
        startMs: 1_765_000_000_000,
        endMs: 1_765_000_060_000,
        runs: [runs[k % runs.length]!, runs[(k * 7) % runs.length]!],
        reason: "time" as const,
        closedAt: 5,
      },
      traceparent: undefined,
      windowsPartition: 0,
    }));
    const messages = windowMessages(parts);
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) {
      const v = valueSlices(m.value)!;
      expect(v.length).toBeLessThanOrEqual(BUNDLE_BYTES);
      const shared = v.shared.filter((s) => s.byteLength > 2);
      expect(new Set(shared).size).toBe(shared.length);
    }
    const chunks = byteBudgetChunks([{ topic: "w", messages }], PARTITION_BUDGET_BYTES);
    for (const [sent] of chunks) {
      const records = sent!.messages.map((m, i) =>
        Record({ offsetDelta: i, key: Buffer.alloc(0), value: m.value, headers: m.headers }),
      );
      const batch = await RecordBatch({ compression: 2, records });
      expect(batch.buffer.length).toBeLessThan(BROKER_BATCH_LIMIT);
    }
    // Far fewer bytes than the parts as single messages: 6,000 parts of 4 KB of runs each.
    const bytes = messages.reduce((n, m) => n + joinSlices(valueSlices(m.value)!).length, 0);
    expect(bytes).toBeLessThan(6000 * 4000 * 0.2);
  });
});
