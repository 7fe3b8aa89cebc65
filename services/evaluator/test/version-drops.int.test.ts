import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { startEvaluator, type Evaluator } from "@runhooks/evaluator";
import { createHarness, eventually, makeRun, ruleVersion, runIdsOf, type Harness } from "./harness.js";

const TENANT = "2ebda79f-2946-4491-a9ad-d642f49e0815";
const quiet = () => undefined;

// A rule's superseded version is dropped once the group's checkpoints have passed it, and neither the
// instance that dropped it, nor its refold from the checkpoint after a rebalance, judges a run differently.
describe("rule versions dropped once the checkpoints pass them", () => {
  let h: Harness;
  const evaluators: Evaluator[] = [];
  const start = async () => {
    const e = await startEvaluator({
      brokers: inject("kafkaBrokers"),
      topicPrefix: h.prefix,
      groupId: `${h.prefix}-evaluator`,
      instanceId: `test-${evaluators.length}`,
      maxRunBytes: 512 * 1024,
      tickIntervalMs: 100,
      // Only when the test asks (dropNow).
      versionDropIntervalMs: 3_600_000,
      log: quiet,
    });
    evaluators.push(e);
    return e;
  };

  beforeAll(async () => {
    h = await createHarness("version-drops", 2);
  });
  afterAll(async () => {
    for (const e of evaluators) await e.stop();
    await h?.close();
  });

  it("drops the superseded version and judges every later run as before, across a rebalance", async () => {
    const first = await start();
    const ruleId = randomUUID();
    const v1 = ruleVersion({
      rule_id: ruleId,
      version: 1,
      tenant_id: TENANT,
      filter: { "==": [{ var: "name" }, "a"] },
    });
    await h.publishRule(v1);
    const early = [makeRun(TENANT, { name: "a" }), makeRun(TENANT, { name: "b" })];
    await h.produceRuns(early);
    await eventually("v1's window", () => runIdsOf(h.parts, ruleId).length >= 1);
    // Before any checkpoint passes v2's start, v1 is still needed: nothing is dropped.
    await h.publishRule({ ...v1, version: 2, filter: { "==": [{ var: "name" }, "b"] } });
    expect(await first.versionDrops.dropNow()).toBe(0);

    const later = [makeRun(TENANT, { name: "a" }), makeRun(TENANT, { name: "b" })];
    await h.produceRuns(later);
    await eventually("v2's window", () => h.parts.some((w) => w.rule_id === ruleId && w.rule_version === 2));
    // Ticks move the partition's stream time on; its checkpoint passes v2's start plus the longest window.
    let dropped = 0;
    for (const deadline = Date.now() + 20_000; dropped === 0 && Date.now() < deadline;) {
      dropped = await first.versionDrops.dropNow();
      if (dropped === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(dropped).toBe(1);
    expect(first.counters.ruleVersionsDropped).toBe(1);

    // The instance that dropped it judges new runs by v2.
    const afterDrop = [makeRun(TENANT, { name: "a" }), makeRun(TENANT, { name: "b" })];
    await h.produceRuns(afterDrop);
    await eventually("the run after the drop", () => runIdsOf(h.parts, ruleId).includes(afterDrop[1]!.id));

    // A rebalance: a second instance joins and leaves, and the first refolds the partition from its
    // checkpoint with the book it dropped the version from.
    const second = await start();
    await eventually(
      "the second instance in the group",
      () => second.counters.ticksWritten + second.counters.runsRead > 0,
    );
    await second.stop();
    evaluators.splice(1, 1);
    const partsBefore = h.parts.length;
    const afterRefold = [makeRun(TENANT, { name: "a" }), makeRun(TENANT, { name: "b" })];
    await h.produceRuns(afterRefold);
    await eventually("the run after the refold", () => runIdsOf(h.parts, ruleId).includes(afterRefold[1]!.id));
    expect(first.counters.ruleVersionsDropped).toBe(1);

    // Every part id, whichever pass published it, carries the same runs.
    const byId = new Map<string, string>();
    for (const p of h.parts) {
      const runs = JSON.stringify(p.runs.map((r) => r.id));
      expect(byId.get(p.part_id) ?? runs).toBe(runs);
      byId.set(p.part_id, runs);
    }
    expect(h.parts.length).toBeGreaterThan(partsBefore);
    const byVersion = (v: number) =>
      runIdsOf(
        h.parts.filter((w) => w.rule_version === v),
        ruleId,
      );
    expect(byVersion(1)).toEqual([early[0]!.id]);
    expect(byVersion(2)).toEqual([later[1]!.id, afterDrop[1]!.id, afterRefold[1]!.id].sort());
  });
});
