import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { JsonValue } from "@runhooks/contracts";
import { startEvaluator, type Evaluator } from "@runhooks/evaluator";
import { createHarness, eventually, makeRun, ruleVersion, runIdsOf, type Harness } from "./harness.js";

const TENANT = "2ebda79f-2946-4491-a9ad-d642f49e0815";
/** Admitted by the static cost bound (16 elements assumed per array of the run); over budget on 5,000. */
const BOMB: JsonValue = {
  some: [{ var: "inputs.big" }, { some: [Array.from({ length: 600 }, (_, i) => i), { "==": [{ var: "" }, -1] }] }],
};

describe("rule errors on the rule-errors topic", () => {
  let h: Harness;
  const running: Evaluator[] = [];
  const start = async () => {
    const e = await startEvaluator({
      brokers: inject("kafkaBrokers"),
      topicPrefix: h.prefix,
      groupId: `${h.prefix}-evaluator`,
      instanceId: `test-${running.length}`,
      maxRunBytes: 512 * 1024,
      tickIntervalMs: 100,
      log: () => undefined,
    });
    running.push(e);
    return e;
  };

  beforeAll(async () => {
    h = await createHarness("rule-errors", 1);
  });
  afterAll(async () => {
    for (const e of running) await e.stop().catch(() => undefined);
    await h?.close();
  });

  it("publishes a count and a sample per rule version and flush, and never again after a restart", async () => {
    const bomb = ruleVersion({ tenant_id: TENANT, filter: BOMB });
    const marker = ruleVersion({ tenant_id: TENANT, filter: { "==": [{ var: "name" }, "marker"] } });
    await h.publishRule(bomb);
    await h.publishRule(marker);
    const first = await start();

    const big = Array.from({ length: 5000 }, (_, i) => i);
    const runs = Array.from({ length: 30 }, () => makeRun(TENANT, { name: "poison", inputs: { big } }));
    await h.produceRuns([...runs, makeRun(TENANT, { name: "marker" })]);
    const total = () => h.ruleErrors.reduce((n, r) => n + r.count, 0);
    await eventually("the marker's window", () => runIdsOf(h.parts, marker.rule_id).length === 1);
    await eventually("30 errors", () => total() >= 30);
    expect(total()).toBe(30);
    expect(first.counters.ruleErrors).toBe(30);
    // One record per flush: fewer records than errors (the 30 runs were produced in one request).
    expect(h.ruleErrors.length).toBeLessThan(30);
    const sampled = new Set(runs.map((r) => r.id));
    for (const r of h.ruleErrors) {
      expect(r).toMatchObject({ tenant_id: TENANT, rule_id: bomb.rule_id, rule_version: 1 });
      expect(sampled.has(r.run_id)).toBe(true);
      expect(r.error.length).toBeGreaterThan(0);
    }
    expect(h.ruleErrors[0]!.run_id).toBe(runs[0]!.id);
    const records = h.ruleErrors.length;

    // A restart refolds from the checkpoint, suppressing what was published below it.
    await first.stop();
    await start();
    const marker2 = makeRun(TENANT, { name: "marker", trace_id: randomUUID() });
    await h.produceRuns([makeRun(TENANT, { name: "poison", inputs: { big } }), marker2]);
    await eventually("the second marker's window", () => runIdsOf(h.parts, marker.rule_id).includes(marker2.id));
    await eventually("the 31st error", () => total() >= 31);
    expect(total()).toBe(31);
    expect(h.ruleErrors.length).toBe(records + 1);
  });
});
