import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { sampled } from "@runhooks/rules";
import { startEvaluator, type Evaluator } from "@runhooks/evaluator";
import { SUBSCRIPTION_ASSIGNER } from "@runhooks/kafka";
import type { GroupDescription } from "kafkajs";
import { createHarness, eventually, makeRun, ruleVersion, runIdsOf, type Harness } from "./harness.js";
import { readTopic } from "../../../test/support/read-topic.js";

const TENANT_1 = "2ebda79f-2946-4491-a9ad-d642f49e0815";
const TENANT_2 = "7c1f4d7e-8a40-4c50-9d8b-0e5a3f6b2c11";
const quiet = () => undefined;

describe("evaluator against the real broker", () => {
  let h: Harness;
  let evaluator: Evaluator;

  beforeAll(async () => {
    h = await createHarness("evaluator");
    evaluator = await startEvaluator({
      brokers: inject("kafkaBrokers"),
      topicPrefix: h.prefix,
      // No group: the prefix's own, `<prefix>-evaluator` (RUNHOOKS_EVALUATOR_GROUP unset).
      instanceId: "test",
      maxRunBytes: 512 * 1024,
      tickIntervalMs: 100,
      log: quiet,
    });
  });
  afterAll(async () => {
    await evaluator?.stop();
    await h?.close();
  });

  it("windows the runs a rule matches, and only those", async () => {
    const rule = ruleVersion({
      tenant_id: TENANT_1,
      filter: { and: [{ "==": [{ var: "run_type" }, "llm"] }, { "==": [{ var: "status" }, "error"] }] },
    });
    await h.publishRule(rule);
    const hits = [0, 1, 2].map(() => makeRun(TENANT_1, { status: "error", error: "rate limited" }));
    const misses = [
      makeRun(TENANT_1, { status: "success" }),
      makeRun(TENANT_1, { run_type: "chain", status: "error" }),
    ];
    await h.produceRuns([...hits, ...misses]);

    await eventually("the matching runs' windows", () => runIdsOf(h.parts, rule.rule_id).length >= 3);
    expect(runIdsOf(h.parts, rule.rule_id)).toEqual(hits.map((r) => r.id).sort());
    for (const w of h.parts.filter((x) => x.rule_id === rule.rule_id)) {
      const start = Date.parse(w.start_time);
      expect(Date.parse(w.end_time) - start).toBe(1000);
      expect(start % 1000).toBe(0);
      expect(w.rule_version).toBe(1);
      expect(w.tenant_id).toBe(TENANT_1);
      expect(w.max_runs).toBe(rule.window.max_runs);
      // Each run with the stream time it was read at: within the window, in the order read.
      expect(w.run_times.every((t, i) => t >= start && t < start + 1000 && (i === 0 || t >= w.run_times[i - 1]!))).toBe(
        true,
      );
    }
    // The runs in a window are the runs as produced, unknown fields and all.
    const sent = hits[0]!;
    const received = h.parts.flatMap((w) => w.runs).find((r) => r.id === sent.id);
    expect(received).toEqual(sent);
  });

  it("joins the prefix's own group when none is named, with the subscription-aware assigner", async () => {
    // The runs it folded in the test above were read by this member of that group.
    const admin = h.kafka.admin();
    await admin.connect();
    try {
      // Decided by the group's state: a rebalance still under way is waited out, not raced.
      let group: GroupDescription | undefined;
      await eventually("the group stable with its one member", async () => {
        [group] = (await admin.describeGroups([`${h.prefix}-evaluator`])).groups;
        return group?.state === "Stable" && group.members.length === 1;
      });
      expect(group).toMatchObject({ state: "Stable", protocol: SUBSCRIPTION_ASSIGNER });
    } finally {
      await admin.disconnect();
    }
  });

  it("never shows a tenant's rule another tenant's runs", async () => {
    const everything = { "==": [1, 1] };
    const rule1 = ruleVersion({ tenant_id: TENANT_1, filter: everything });
    const rule2 = ruleVersion({ tenant_id: TENANT_2, filter: everything });
    await h.publishRule(rule1);
    await h.publishRule(rule2);
    const runs1 = [0, 1, 2, 3].map(() => makeRun(TENANT_1, { name: "tenant-isolation" }));
    const runs2 = [0, 1].map(() => makeRun(TENANT_2, { name: "tenant-isolation" }));
    await h.produceRuns([...runs1, ...runs2]);
    await eventually(
      "both tenants' windows",
      () => runIdsOf(h.parts, rule1.rule_id).length >= 4 && runIdsOf(h.parts, rule2.rule_id).length >= 2,
    );
    expect(runIdsOf(h.parts, rule1.rule_id)).toEqual(runs1.map((r) => r.id).sort());
    expect(runIdsOf(h.parts, rule2.rule_id)).toEqual(runs2.map((r) => r.id).sort());
  });

  it("samples by a stable hash of rule and run", async () => {
    const rule = ruleVersion({
      tenant_id: TENANT_2,
      filter: { "==": [{ var: "name" }, "sampled"] },
      sampling_rate: 0.3,
    });
    await h.publishRule(rule);
    // One trace: one partition, read in order. The marker, matched by another rule and produced last,
    // proves the evaluator got past every sampled run when its window shows up.
    const trace = randomUUID();
    const runs = Array.from({ length: 200 }, () => makeRun(TENANT_2, { name: "sampled", trace_id: trace }));
    const expected = runs
      .filter((r) => sampled(rule.rule_id, r.id, 0.3))
      .map((r) => r.id)
      .sort();
    expect(expected.length).toBeGreaterThan(30);
    expect(expected.length).toBeLessThan(100);
    const marker = ruleVersion({ tenant_id: TENANT_2, filter: { "==": [{ var: "name" }, "sampling-marker"] } });
    await h.publishRule(marker);
    await h.produceRuns([...runs, makeRun(TENANT_2, { name: "sampling-marker", trace_id: trace })]);
    await eventually("the marker's window", () => runIdsOf(h.parts, marker.rule_id).length === 1);
    await eventually("the sampled runs' windows", () => runIdsOf(h.parts, rule.rule_id).length >= expected.length);
    expect(runIdsOf(h.parts, rule.rule_id)).toEqual(expected);
  });

  it("judges each run by the rule version in force when it was appended", async () => {
    const ruleId = randomUUID();
    const v1 = ruleVersion({
      rule_id: ruleId,
      version: 1,
      tenant_id: TENANT_1,
      filter: { "==": [{ var: "name" }, "first"] },
    });
    await h.publishRule(v1);
    const before = [makeRun(TENANT_1, { name: "first" }), makeRun(TENANT_1, { name: "second" })];
    await h.produceRuns(before);
    await eventually("v1's window", () => runIdsOf(h.parts, ruleId).length >= 1);

    const v2 = { ...v1, version: 2, filter: { "==": [{ var: "name" }, "second"] } };
    await h.publishRule(v2);
    const after = [makeRun(TENANT_1, { name: "first" }), makeRun(TENANT_1, { name: "second" })];
    await h.produceRuns(after);
    await eventually("v2's window", () => h.parts.some((w) => w.rule_id === ruleId && w.rule_version === 2));

    const byVersion = (v: number) =>
      runIdsOf(
        h.parts.filter((w) => w.rule_version === v),
        ruleId,
      );
    expect(byVersion(1)).toEqual([before[0]!.id]);
    expect(byVersion(2)).toEqual([after[1]!.id]);

    await h.deleteRule(ruleId);
    const late = makeRun(TENANT_1, { name: "second" });
    const marker = ruleVersion({ tenant_id: TENANT_1, filter: { "==": [{ var: "name" }, "marker-after-delete"] } });
    await h.publishRule(marker);
    await h.produceRuns([late, makeRun(TENANT_1, { name: "marker-after-delete" })]);
    await eventually("the marker's window", () => runIdsOf(h.parts, marker.rule_id).length === 1);
    expect(runIdsOf(h.parts, ruleId)).not.toContain(late.id);
  });

  it("dead-letters garbage with its reason and bytes, counts unfinished runs, and keeps going", async () => {
    const rule = ruleVersion({ tenant_id: TENANT_2, filter: { "==": [{ var: "name" }, "after-garbage"] } });
    await h.publishRule(rule);
    const skippedBefore = evaluator.counters.runsSkippedNotEnded;
    const noTenant = JSON.stringify({ ...makeRun(TENANT_2), tenant_id: undefined });
    const oversized = JSON.stringify(makeRun(TENANT_2, { inputs: { blob: "x".repeat(600 * 1024) } }));
    await h.produceRaw(["{not json", noTenant, oversized], "garbage");
    // One trace, so one partition: the unfinished run is read before the good run's window can close.
    const trace = randomUUID();
    await h.produceRuns([
      makeRun(TENANT_2, { name: "after-garbage", end_time: null, trace_id: trace }),
      makeRun(TENANT_2, { name: "after-garbage", trace_id: trace }),
    ]);

    await eventually("three dead letters", () => h.deadLetters.length >= 3);
    const byReason = Object.fromEntries(h.deadLetters.map((d) => [d.reason, d]));
    expect(Object.keys(byReason).sort()).toEqual(["invalid_json", "oversized", "schema_invalid"]);
    expect(Buffer.from(byReason["invalid_json"]!.original, "base64").toString()).toBe("{not json");
    expect(byReason["schema_invalid"]!.error).toMatch(/tenant_id/);
    expect(Buffer.from(byReason["schema_invalid"]!.original, "base64").toString()).toBe(noTenant);
    expect(byReason["oversized"]!.error).toMatch(/limit is 524288/);
    expect(byReason["invalid_json"]!.topic).toBe(h.topics.runs);

    await eventually("the good run's window", () => runIdsOf(h.parts, rule.rule_id).length === 1);
    expect(evaluator.counters.runsSkippedNotEnded).toBe(skippedBefore + 1);
  });

  it("dead-letters a run nested too deep once, and windows the runs after it", async () => {
    const rule = ruleVersion({ tenant_id: TENANT_1, filter: { "==": [{ var: "name" }, "after-deep"] } });
    await h.publishRule(rule);
    const key = `deep-${randomUUID()}`;
    const depth = 100_000;
    const deep = `{"id":"${randomUUID()}","name":"deep","run_type":"llm","start_time":"${new Date().toISOString()}","tenant_id":"${TENANT_1}","inputs":{"x":${"[".repeat(depth)}${"]".repeat(depth)}}}`;
    expect(deep.length).toBeGreaterThan(200_000);
    const good = makeRun(TENANT_1, { name: "after-deep" });
    // Same key, same partition: the deep run, a good run, then garbage whose dead letter comes after
    // any second dead letter of the deep run could (one partition of the dead-letter topic, in order).
    await h.produceRaw([deep, JSON.stringify(good), "{trailer"], key);

    const text = (d: { original: string }) => Buffer.from(d.original, "base64").toString();
    const ofKey = () => h.deadLetters.filter((d) => text(d) === deep || text(d) === "{trailer");
    await eventually("the trailer's dead letter", () => ofKey().some((d) => text(d) === "{trailer"));
    expect(ofKey().map((d) => d.reason)).toEqual(["too_deep", "invalid_json"]);
    const letter = ofKey()[0]!;
    expect(letter.error).toMatch(/the limit is 256 \(RUNHOOKS_MAX_RUN_DEPTH\)/);
    expect(text(letter)).toBe(deep);
    await eventually("the good run's window", () => runIdsOf(h.parts, rule.rule_id).length === 1);
    expect(runIdsOf(h.parts, rule.rule_id)).toEqual([good.id]);
  });

  it("serves health and metrics", async () => {
    const local = await startEvaluator({
      brokers: inject("kafkaBrokers"),
      topicPrefix: h.prefix,
      groupId: `${h.prefix}-evaluator-http`,
      instanceId: "http",
      maxRunBytes: 512 * 1024,
      tickIntervalMs: 100,
      http: { host: "127.0.0.1", port: 0 },
      log: quiet,
    });
    try {
      // This instance reads the whole topic again: once it has dead-lettered what the first one did,
      // the counters the metrics read are final (nothing more is produced).
      const invalidJson = evaluator.counters.deadLettered["invalid_json"] ?? 0;
      expect(invalidJson).toBeGreaterThan(0);
      await eventually(
        "the same dead letters",
        () => (local.counters.deadLettered["invalid_json"] ?? 0) === invalidJson,
      );
      const health = await fetch(`${local.url}/healthz`);
      expect(health.status).toBe(200);
      const metrics = await (await fetch(`${local.url}/metrics`)).text();
      expect(metrics).toMatch(/runhooks_evaluator_runs_read_total [1-9]\d*/);
      expect(metrics).toMatch(/runhooks_evaluator_windows_emitted_total \d+/);
      expect(metrics).toContain(`runhooks_evaluator_dead_lettered_total{reason="invalid_json"} ${invalidJson}\n`);
      expect(metrics).toMatch(/runhooks_evaluator_rule_errors_total \d+/);
    } finally {
      await local.stop();
    }
  });
});

describe("evaluator with bundles off (RUNHOOKS_WINDOWS_BUNDLES=false)", () => {
  let h: Harness;
  let evaluator: Evaluator;

  beforeAll(async () => {
    h = await createHarness("single-parts");
    evaluator = await startEvaluator({
      brokers: inject("kafkaBrokers"),
      topicPrefix: h.prefix,
      groupId: `${h.prefix}-evaluator`,
      instanceId: "test",
      maxRunBytes: 512 * 1024,
      tickIntervalMs: 100,
      windowsBundles: false,
      log: quiet,
    });
  });
  afterAll(async () => {
    await evaluator?.stop();
    await h?.close();
  });

  it("publishes every part as a single part message, keyed by its rule", async () => {
    const rules = [0, 1].map(() =>
      ruleVersion({ tenant_id: TENANT_1, filter: { "==": [{ var: "run_type" }, "llm"] } }),
    );
    for (const rule of rules) await h.publishRule(rule);
    const runs = [0, 1, 2].map(() => makeRun(TENANT_1));
    await h.produceRuns(runs);
    await eventually("both rules' windows", () => rules.every((r) => runIdsOf(h.parts, r.rule_id).length >= 3));

    const admin = h.kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(h.topics.windows);
    await admin.disconnect();
    const count = offsets.reduce((n, o) => n + Number(o.high), 0);
    const read = await readTopic(h.kafka, h.topics.windows, count);
    const kinds = read.map(({ message }) => message.headers?.["runhooks-kind"]?.toString());
    expect(kinds).not.toContain("parts");
    const parts = read.filter((_, i) => kinds[i] === "part");
    expect(parts.length).toBeGreaterThanOrEqual(2);
    const ruleIds = new Set(rules.map((r) => r.rule_id));
    for (const { message } of parts) expect(ruleIds.has(message.key!.toString())).toBe(true);
  });
});
