import { ForeignBatchError } from "@runhooks/kafka";
import type { EachBatchPayload } from "kafkajs";
import { describe, expect, it } from "vitest";
import type { RunsConsumerContext } from "../src/consumer-context.js";
import { foldBatch } from "../src/fold-batch.js";

describe("foldBatch", () => {
  it("refuses a batch of a topic it did not subscribe to: nothing folded, resolved or committed", async () => {
    const logged: string[] = [];
    const touched: string[] = [];
    // Only what the refusal reads is real; anything further the fold would touch is recorded.
    const ctx = new Proxy(
      {
        topic: "blue.runs",
        o: { groupId: "runhooks-evaluator", log: (_level: string, message: string) => void logged.push(message) },
      },
      {
        get(target, key: string) {
          if (key in target) return target[key as keyof typeof target];
          touched.push(`ctx.${key}`);
          return undefined;
        },
      },
    ) as unknown as RunsConsumerContext;
    const payload = {
      batch: { topic: "green.runs", partition: 0, messages: [{ offset: "0", timestamp: "0", value: null }] },
      resolveOffset: () => void touched.push("resolveOffset"),
      commitOffsetsIfNecessary: () => Promise.resolve(void touched.push("commit")),
      heartbeat: () => Promise.resolve(),
      isRunning: () => true,
      isStale: () => false,
    } as unknown as EachBatchPayload;

    await expect(foldBatch(ctx, payload)).rejects.toThrow(ForeignBatchError);
    expect(touched).toEqual([]);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/green\.runs.*runhooks-evaluator.*blue\.runs.*RUNHOOKS_EVALUATOR_GROUP/);
  });
});
