import { afterAll, describe, expect, inject, it } from "vitest";
import { startEvaluator, type Evaluator } from "@runhooks/evaluator";
import {
  createHarness,
  eventually,
  makeRun,
  ruleVersion,
  runIdsOf,
  watermarksByPartition,
  type Harness,
} from "./harness.js";

const TENANT = "2ebda79f-2946-4491-a9ad-d642f49e0815";
const RUNS_PARTITIONS = 2;
/** The harness' windows topic has two partitions. */
const WINDOWS_PARTITIONS = 2;

describe("watermarks", () => {
  let h: Harness | undefined;
  let evaluator: Evaluator | undefined;
  afterAll(async () => {
    await evaluator?.stop();
    await h?.close();
  });

  it("reach every windows partition from every runs partition, an empty one too, after the parts they cover", async () => {
    const harness = await createHarness("watermarks", RUNS_PARTITIONS);
    h = harness;
    const rule = ruleVersion({
      tenant_id: TENANT,
      filter: { "==": [{ var: "name" }, "watermarked"] },
      window: { seconds: 1, max_runs: 2 },
    });
    await harness.publishRule(rule);
    // Five runs, all in runs partition 0: partition 1 stays empty, and only ticks can move its watermark.
    const runs = Array.from({ length: 5 }, () => makeRun(TENANT, { name: "watermarked" }));
    const producer = harness.kafka.producer();
    await producer.connect();
    await producer.send({
      topic: harness.topics.runs,
      acks: -1,
      messages: runs.map((r) => ({ partition: 0, key: r.id, value: JSON.stringify(r) })),
    });
    await producer.disconnect();

    evaluator = await startEvaluator({
      brokers: inject("kafkaBrokers"),
      topicPrefix: harness.prefix,
      groupId: `${harness.prefix}-evaluator`,
      instanceId: "watermarks",
      maxRunBytes: 512 * 1024,
      tickIntervalMs: 100,
      log: () => undefined,
    });
    await eventually("the runs' parts", () => runIdsOf(harness.parts, rule.rule_id).length >= runs.length);
    // max_runs cuts nothing here: the runs stay in their window's parts.
    expect(runIdsOf(harness.parts, rule.rule_id)).toEqual(runs.map((r) => r.id).sort());
    expect(harness.parts.every((p) => p.runs_partition === 0 && p.piece === 0)).toBe(true);

    const lastEnd = Math.max(...harness.parts.map((p) => Date.parse(p.end_time)));
    const passed = () => {
      const byQ = watermarksByPartition(harness.windowsLog);
      return Array.from({ length: WINDOWS_PARTITIONS }, (_, q) => q).every((q) =>
        Array.from({ length: RUNS_PARTITIONS }, (_, p) => p).every(
          (p) => (byQ.get(q)?.get(p) ?? Number.NEGATIVE_INFINITY) >= lastEnd,
        ),
      );
    };
    await eventually("every runs partition's watermark past the last window's end, in every windows partition", passed);

    // The invariant the assembler relies on: in a windows partition, no watermark (p, S) precedes a
    // part of runs partition p for a window with end <= S.
    for (const e of harness.windowsLog) {
      if (e.kind !== "part") continue;
      const end = Date.parse(e.part.end_time);
      const early = harness.windowsLog.filter(
        (w) =>
          w.kind === "watermark" &&
          w.q === e.q &&
          w.offset < e.offset &&
          w.watermark.runs_partition === e.part.runs_partition &&
          w.watermark.stream_time >= end,
      );
      expect(early, `a watermark before part ${e.part.part_id}`).toEqual([]);
    }
    // At most about one watermark per runs partition per second: each crossed a whole second.
    for (let q = 0; q < WINDOWS_PARTITIONS; q++) {
      for (let p = 0; p < RUNS_PARTITIONS; p++) {
        const times = harness.windowsLog.flatMap((e) =>
          e.kind === "watermark" && e.q === q && e.watermark.runs_partition === p ? [e.watermark.stream_time] : [],
        );
        for (let i = 1; i < times.length; i++)
          expect(Math.floor(times[i]! / 1000)).toBeGreaterThan(Math.floor(times[i - 1]! / 1000));
      }
    }
    expect(evaluator.counters.watermarksSent).toBeGreaterThan(0);
  });
});
