import { afterAll, describe, expect, inject, it } from "vitest";
import kafkajs from "kafkajs";
import { startEvaluator, type Evaluator } from "@runhooks/evaluator";
import { createHarness, eventually, makeRun, ruleVersion, runIdsOf, type Harness } from "./harness.js";

const { ConfigResourceTypes } = kafkajs;
const TENANT = "2ebda79f-2946-4491-a9ad-d642f49e0815";
const quiet = () => undefined;

describe("a flush Kafka refuses", () => {
  let h: Harness | undefined;
  const evaluators: Evaluator[] = [];
  afterAll(async () => {
    for (const e of evaluators) await e.stop().catch(() => undefined);
    await h?.close();
  });

  it("is never committed past: the evaluator stops, and a restart publishes its parts", async () => {
    const harness = await createHarness("flushfail", 1);
    h = harness;
    const admin = harness.kafka.admin();
    await admin.connect();
    const limit = async (bytes: number) => {
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: harness.topics.windows,
            configEntries: [{ name: "max.message.bytes", value: String(bytes) }],
          },
        ],
      });
    };
    try {
      // A watermark (under 200 bytes) fits, no part of four runs does (their ids alone take more):
      // every send of parts is refused (MESSAGE_TOO_LARGE, not retriable).
      await limit(300);
      const rule = ruleVersion({
        tenant_id: TENANT,
        filter: { "==": [{ var: "status" }, "error"] },
        window: { seconds: 1, max_runs: 2 },
      });
      await harness.publishRule(rule);
      const runs = [0, 1, 2, 3].map(() => makeRun(TENANT, { status: "error" }));
      await harness.produceRuns(runs);

      const start = (onFatal?: (error: Error) => void) =>
        startEvaluator({
          brokers: inject("kafkaBrokers"),
          topicPrefix: harness.prefix,
          groupId: `${harness.prefix}-evaluator`,
          instanceId: "test",
          maxRunBytes: 64 * 1024,
          tickIntervalMs: 100,
          log: quiet,
          ...(onFatal ? { onFatal } : {}),
        }).then((e) => (evaluators.push(e), e));

      let fatal: Error | undefined;
      const first = await start((error) => (fatal = error));
      await eventually("the refused flush to stop the evaluator", () => fatal !== undefined, 30_000);
      expect(first.counters.runsMatched).toBe(4);
      expect(first.counters.windowsEmitted).toBe(0);
      // The first flush's watermark went out: it was the parts that were refused.
      expect(first.counters.watermarksSent).toBeGreaterThan(0);
      // No part was published, so nothing may have been committed past the window's first run (offset
      // 0, where the flushes before its window closed committed): a restart must fold these runs again.
      const committed = (
        await admin.fetchOffsets({ groupId: `${harness.prefix}-evaluator`, topics: [harness.topics.runs] })
      ).flatMap((t) => t.partitions);
      expect(committed.map((p) => Number(p.offset))).toEqual([0]);
      await first.stop();

      await limit(1024 * 1024);
      await start();
      await eventually(
        "the part, published by the restarted evaluator",
        () => runIdsOf(harness.parts, rule.rule_id).length >= 4,
        30_000,
      );
      expect(runIdsOf(harness.parts, rule.rule_id)).toEqual(runs.map((r) => r.id).sort());
      // max_runs 2 cuts the merged window, not the part.
      expect(harness.parts.map((w) => [w.piece, w.runs.length])).toEqual([[0, 4]]);
    } finally {
      await admin.disconnect();
    }
  });
});
