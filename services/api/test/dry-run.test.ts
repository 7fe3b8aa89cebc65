import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Rule, Run } from "@runhooks/contracts";
import { MAX_WINDOW_BYTES, mergedWindowId, projectId } from "@runhooks/rules";
import { dryRun } from "../src/rules/dry-run.js";

const tenant = randomUUID();

function run(end: string | null, patch: Record<string, unknown> = {}): Run {
  return Run.parse({
    id: randomUUID(),
    name: "n",
    run_type: "llm",
    start_time: "2024-01-01T00:00:00Z",
    end_time: end,
    tenant_id: tenant,
    ...patch,
  });
}

function rule(patch: Record<string, unknown> = {}): Rule {
  return Rule.parse({
    id: randomUUID(),
    tenant_id: tenant,
    display_name: "r",
    filter: { "==": [{ var: "run_type" }, "llm"] },
    ...patch,
  });
}

describe("dryRun", () => {
  it("windows matched runs by end_time in aligned windows, UTC, each cut into chunks of max_runs in time order", () => {
    const runs = [
      run("2024-01-01T00:00:09.999"), // no offset: UTC, window [5, 10)
      run("2024-01-01T00:00:05+00:00"),
      run("2024-01-01T01:00:07+01:00"), // = 00:00:07Z
      run("2024-01-01T00:00:10Z"),
    ];
    const result = dryRun(rule({ window: { seconds: 5, max_runs: 2 } }), runs);
    expect(result.payloads.map((p) => [p.start_time, p.end_time, p.runs.map((r) => r.id)])).toEqual([
      ["2024-01-01T00:00:05.000Z", "2024-01-01T00:00:10.000Z", [runs[1]!.id, runs[2]!.id]],
      ["2024-01-01T00:00:05.000Z", "2024-01-01T00:00:10.000Z", [runs[0]!.id]],
      ["2024-01-01T00:00:10.000Z", "2024-01-01T00:00:15.000Z", [runs[3]!.id]],
    ]);
    // The first window is two chunks (what the runhooks-chunk-index / -count headers say), the second one.
    expect(result.chunks.map((c) => [c.chunk_index, c.chunk_count])).toEqual([
      [0, 2],
      [1, 2],
      [0, 1],
    ]);
    expect(new Set(result.chunks.map((c) => c.window_id)).size).toBe(3);
    expect(result.chunks[0]?.window_id).toBe(
      mergedWindowId({ ruleId: result.rule_id, ruleVersion: 1, startMs: Date.parse("2024-01-01T00:00:05Z"), chunk: 0 }),
    );
  });

  it("sends one payload for a window of up to max_runs runs, however many pieces its runs took", () => {
    const r = rule({ window: { seconds: 60, max_runs: 3 } });
    const runs = Array.from({ length: 7 }, (_, i) => run(`2024-01-01T00:00:${String(50 - i * 5).padStart(2, "0")}Z`));
    const result = dryRun(r, runs);
    // Seven runs in one window: chunks of exactly 3, 3 and 1, the runs in order of time.
    expect(result.payloads.map((p) => p.runs.map((x) => x.id))).toEqual([
      [runs[6]!.id, runs[5]!.id, runs[4]!.id],
      [runs[3]!.id, runs[2]!.id, runs[1]!.id],
      [runs[0]!.id],
    ]);
    expect(result.chunks.map((c) => `${c.chunk_index}/${c.chunk_count}`)).toEqual(["0/3", "1/3", "2/3"]);
  });

  it("folds and merges as the evaluator and the assembler do: a run id once per window, pieces merged", () => {
    const twice = run("2024-01-01T00:00:01Z");
    const deduped = dryRun(rule(), [twice, twice, run("2024-01-01T00:00:02Z")]);
    expect(deduped.matched).toBe(3);
    expect(deduped.payloads.map((p) => p.runs.map((r) => r.id))).toEqual([[twice.id, deduped.results[2]!.run_id]]);
    // Four runs of ~300 KB each: the evaluator publishes them in two pieces of at most MAX_WINDOW_BYTES
    // (768 KiB), which the assembler merges again: one payload, runs in order.
    const big = Array.from({ length: 4 }, (_, i) =>
      run(`2024-01-01T00:00:0${i}Z`, { inputs: { text: "x".repeat(300_000) } }),
    );
    const merged = dryRun(rule(), big);
    expect(merged.payloads.map((p) => p.runs.map((x) => x.id))).toEqual([big.map((x) => x.id)]);
    expect(MAX_WINDOW_BYTES).toBeLessThan(3 * 300_000);
  });

  it("explains a failing filter down to the parts that failed, with the values they read", () => {
    const r = rule({ filter: { and: [{ "==": [{ var: "run_type" }, "llm"] }, { ">": [{ var: "latency" }, 10] }] } });
    const [verdict] = dryRun(r, [run("2024-01-01T00:00:02Z")]).results;
    expect(verdict?.matched).toBe(false);
    expect(verdict?.reasons).toEqual(['filter: filter.and[1] is false: {">":[{"var":"latency"},10]} with latency = 2']);
  });

  it("reports a disabled rule and an unended run, and sends nothing for them", () => {
    const result = dryRun(rule({ enabled: false }), [run(null)]);
    expect(result.results[0]?.checks.filter((c) => !c.ok).map((c) => c.part)).toEqual(["ended", "enabled"]);
    expect(result.payloads).toEqual([]);
  });

  it("shows webhook URLs redacted", () => {
    const result = dryRun(rule({ webhooks: [{ url: "https://h.example/x?token=abc123" }] }), []);
    expect(result.webhooks).toEqual(["https://h.example/x?token=***"]);
  });
});

describe("dryRun under the filter budget", () => {
  const search = { in: ["zzz", { var: "tags" }] };
  const big = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`);

  it("answers error for a run the filter cannot judge within its budget, with the reason, and matches the rest", () => {
    const heavy = run("2024-01-01T00:00:01Z", { tags: big(5000) });
    const light = run("2024-01-01T00:00:02Z", { tags: ["zzz"] });
    const result = dryRun(rule({ filter: search }), [heavy, light], { filterSteps: 1000 });
    const [h, l] = result.results;
    expect(h?.matched).toBe(false);
    expect(h?.error).toContain("1,000 steps");
    expect(h?.reasons).toEqual([`filter: ${h?.error}`]);
    expect(l?.matched).toBe(true);
    expect(l?.error).toBeUndefined();
    expect(result.errors).toBe(1);
    expect(result.payloads.flatMap((p) => p.runs.map((r) => r.id))).toEqual([light.id]);
  });

  it("checks sampling before the filter, as the evaluator: a sampled-out run is never an error", () => {
    const runs = Array.from({ length: 40 }, (_, i) =>
      run(`2024-01-01T00:00:${String(i).padStart(2, "0")}Z`, { tags: big(5000) }),
    );
    const result = dryRun(rule({ filter: search, sampling_rate: 0.5 }), runs, { filterSteps: 1000 });
    for (const verdict of result.results) {
      expect(verdict.checks.map((c) => c.part)).toEqual(["ended", "enabled", "tenant", "sampling", "filter"]);
      const sampledIn = verdict.checks.find((c) => c.part === "sampling")!.ok;
      // The filter check still explains itself; only a run the evaluator would judge gets the verdict.
      expect(verdict.checks.find((c) => c.part === "filter")?.message).toMatch(/^error: /);
      expect(verdict.error !== undefined).toBe(sampledIn);
    }
    expect(result.errors).toBeGreaterThan(0);
    expect(result.errors).toBeLessThan(40);
  });

  it("stops evaluating when the dry run's own steps run out, and names the setting", () => {
    const runs = Array.from({ length: 10 }, () => run("2024-01-01T00:00:01Z", { tags: big(300) }));
    const result = dryRun(rule({ filter: search }), runs, {
      maxSteps: 2000,
      maxStepsSetting: "RUNHOOKS_API_DRY_RUN_MAX_STEPS",
    });
    // Each run takes ~300 steps to judge and ~300 to explain: the fourth finds the 2,000 used up.
    const evaluated = result.results.filter((r) => r.error === undefined);
    expect(evaluated).toHaveLength(4);
    expect(result.results[4]?.error).toBe(
      "not evaluated: this dry run took all of its 2,000 filter steps (RUNHOOKS_API_DRY_RUN_MAX_STEPS); send fewer runs",
    );
    expect(result.steps).toBeGreaterThanOrEqual(2000);
    expect(result.steps).toBeLessThan(2000 + 700);
  });

  it("resolves a session_name to its project, as the evaluator: scope and filter see the id, payloads the run as written", () => {
    const project = projectId(tenant, "support-bot");
    const named = run("2024-01-01T00:00:01Z", { session_name: "support-bot" });
    const other = run("2024-01-01T00:00:02Z", { session_name: "other" });
    const result = dryRun(rule({ session_id: project, filter: { "==": [{ var: "session_id" }, project] } }), [
      named,
      other,
    ]);
    expect(result.results.map((r) => r.matched)).toEqual([true, false]);
    expect(result.results[1]!.checks.find((c) => c.part === "session")).toMatchObject({
      ok: false,
      message: expect.stringContaining(projectId(tenant, "other")) as string,
    });
    expect(result.payloads[0]!.runs[0]).not.toHaveProperty("session_id");
    expect(named).not.toHaveProperty("session_id");
  });

  it("is the same answer on every replay (steps, not time)", () => {
    const runs = Array.from({ length: 20 }, (_, i) => run("2024-01-01T00:00:01Z", { tags: big(i * 100) }));
    const r = rule({ filter: search });
    const once = dryRun(r, runs, { filterSteps: 1000, maxSteps: 20_000 });
    const again = dryRun(r, runs, { filterSteps: 1000, maxSteps: 20_000 });
    expect(again).toEqual(once);
    // Both kinds of error occur: over a run's budget, and past the dry run's.
    expect(once.results.map((v) => v.error?.slice(0, 14) ?? "-")).toContain("error: the fil");
    expect(once.results.map((v) => v.error?.slice(0, 14) ?? "-")).toContain("not evaluated:");
  });
});

describe("dryRun of a trace-aware rule over whole traces", () => {
  const LLM_ERROR = { and: [{ "==": [{ var: "run_type" }, "llm"] }, { "==": [{ var: "status" }, "error"] }] };
  /** A trace: a root ending at `rootEnd` (seconds), children ending before it; `null` leaves the root out. */
  function trace(rootEnd: number | null, root: Record<string, unknown>, ...children: Record<string, unknown>[]): Run[] {
    const traceId = randomUUID();
    const at = (s: number) => `2024-01-01T00:00:${String(s).padStart(2, "0")}Z`;
    const kids = children.map((c, i) =>
      run(at(i + 1), { name: `child-${i}`, trace_id: traceId, parent_run_id: traceId, is_root: false, ...c }),
    );
    if (rootEnd === null) return kids;
    return [...kids, run(at(rootEnd), { id: traceId, name: "root", trace_id: traceId, is_root: true, ...root })];
  }
  const byName = (result: ReturnType<typeof dryRun>, runs: readonly Run[]) =>
    Object.fromEntries(result.results.map((r, i) => [`${i}:${runs[i]!.name}`, [r.matched, r.decided_by]]));

  it("LLM errors in vip traces: the vip trace's error matches, decided by trace_filter; the other trace's does not", () => {
    const vip = trace(9, { tags: ["vip"], run_type: "chain" }, { status: "error" }, { status: "success" });
    const plain = trace(9, { tags: [], run_type: "chain" }, { status: "error" });
    const runs = [...vip, ...plain];
    const result = dryRun(rule({ filter: LLM_ERROR, trace_filter: { in: ["vip", { var: "tags" }] } }), runs);
    expect(byName(result, runs)).toEqual({
      "0:child-0": [true, "trace_filter"],
      "1:child-1": [false, "filter"],
      "2:root": [false, "filter"],
      "3:child-0": [false, "trace_filter"],
      "4:root": [false, "filter"],
    });
    expect(result.results[0]!.checks.map((c) => [c.part, c.ok])).toEqual([
      ["ended", true],
      ["enabled", true],
      ["tenant", true],
      ["sampling", true],
      ["filter", true],
      ["trace_filter", true],
      ["trace", true],
    ]);
    expect(result.results[0]!.checks.at(-1)?.message).toMatch(
      /^joins the window of 2024-01-01T00:00:09.000Z, when root/,
    );
    expect(result.results[3]!.reasons).toEqual([
      expect.stringMatching(/^trace_filter: the trace's root root \(.*\) fails trace_filter$/),
      "trace: dropped at 2024-01-01T00:00:09.000Z, when its root was read: the root fails trace_filter",
    ]);
    // The payload holds the error of the vip trace, in the window of its root's end.
    expect(result.payloads.map((p) => [p.start_time, p.runs.map((r) => r.id)])).toEqual([
      ["2024-01-01T00:00:05.000Z", [vip[0]!.id]],
    ]);
  });

  it("a tree_filter on a tool run: the root of a trace holding one matches, the other root does not", () => {
    const withTool = trace(9, {}, { run_type: "tool" }, { run_type: "llm" });
    const without = trace(9, {}, { run_type: "llm" });
    const runs = [...withTool, ...without];
    const result = dryRun(
      rule({ filter: { "==": [{ var: "is_root" }, true] }, tree_filter: { "==": [{ var: "run_type" }, "tool"] } }),
      runs,
    );
    expect(result.results.map((r) => r.matched)).toEqual([false, false, true, false, false]);
    expect(result.results[2]!.decided_by).toBe("filter");
    expect(result.results[2]!.checks.find((c) => c.part === "tree_filter")?.message).toMatch(
      /^1 run of the trace satisfies tree_filter, the first child-0/,
    );
    expect(result.results[4]!.decided_by).toBe("tree_filter");
    expect(result.results[4]!.reasons).toContain(
      "trace: dropped at 2024-01-01T00:00:09.000Z, when its root was read: no run satisfying tree_filter had been read by then",
    );
  });

  it("a trace without its root: the candidate is dropped at the horizon, and the answer says so", () => {
    const runs = trace(null, {}, { status: "error" });
    const result = dryRun(rule({ filter: LLM_ERROR, trace_filter: true, trace_horizon_seconds: 60 }), runs);
    expect(result.results[0]).toMatchObject({ matched: false, decided_by: "trace_filter" });
    expect(result.results[0]!.reasons).toEqual([
      expect.stringMatching(/^trace_filter: no root of trace .* among the runs sent/),
      "trace: dropped: its trace did not settle it within the horizon of 60 s (its root was not read in time)",
    ]);
    expect(result.windowing).toContain("at most 60 s");
  });

  it("samples by trace id: every run of a trace is in or out together", () => {
    const traces = Array.from({ length: 12 }, () => trace(9, {}, {}, {}));
    const result = dryRun(rule({ filter: true, tree_filter: true, sampling_rate: 0.5 }), traces.flat());
    let at = 0;
    const kept = traces.map((t) => {
      const verdicts = result.results.slice(at, (at += t.length));
      const sampledIn = verdicts.map((v) => v.checks.find((c) => c.part === "sampling")!.ok);
      expect(new Set(sampledIn).size).toBe(1);
      expect(verdicts.every((v) => v.matched === sampledIn[0])).toBe(true);
      return sampledIn[0];
    });
    expect(new Set(kept).size).toBe(2);
  });
});
