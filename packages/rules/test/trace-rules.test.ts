import { describe, expect, it } from "vitest";
import type { Run, RuleVersion } from "@runhooks/contracts";
import {
  applyRuleVersion,
  createRuleBook,
  createStreamState,
  createTraceState,
  isTraceRoot,
  judgeDecodedRun,
  matchRun,
  runFacts,
  sampled,
  streamStep,
  traceKeyOf,
  type RuleBook,
  type TraceVerdict,
} from "@runhooks/rules";
import { ruleVersion } from "./rule-version.js";

const TENANT = "5b0e7c1d-3f2a-4d6b-9e8c-1a2b3c4d5e6f";
const OTHER_TENANT = "6c1f8d2e-4a3b-4e7c-8f9d-2b3c4d5e6f70";
const TRACE = "20000000-0000-4000-8000-000000000000";
const LLM_ERROR = { and: [{ "==": [{ var: "run_type" }, "llm"] }, { "==": [{ var: "status" }, "error"] }] };
const VIP = { in: ["vip", { var: "tags" }] };
const TOOL = { "==": [{ var: "run_type" }, "tool"] };
const ROOT = { "==": [{ var: "is_root" }, true] };

let ids = 0;
/** A run of `trace` (a child unless `is_root`), with a fresh id. */
const run = (fields: Partial<Run> = {}, trace = TRACE): Run => {
  const id = `10000000-0000-4000-8000-${String(++ids).padStart(12, "0")}`;
  return {
    id,
    trace_id: trace,
    parent_run_id: trace,
    is_root: false,
    name: "step",
    run_type: "chain",
    status: "success",
    start_time: "2024-04-05T01:28:54.085Z",
    end_time: "2024-04-05T01:28:55.085Z",
    tenant_id: TENANT,
    ...fields,
  };
};
const root = (fields: Partial<Run> = {}, trace = TRACE): Run =>
  run({ id: trace, parent_run_id: null, is_root: true, ...fields }, trace);

const version = (n: number, filter: unknown, extra: Partial<RuleVersion> = {}): RuleVersion =>
  ruleVersion(TENANT, n, filter, extra);

function bookOf(...steps: [effectiveFrom: number, v: RuleVersion | { deleted: string }][]): RuleBook {
  const book = createRuleBook();
  for (const [effectiveFrom, v] of steps) {
    if ("deleted" in v) applyRuleVersion(book, { ruleId: v.deleted, rule: null, effectiveFrom });
    else applyRuleVersion(book, { ruleId: v.rule_id, rule: v, effectiveFrom });
  }
  return book;
}

/** Judges and folds `runs` at the given stream times; returns which rule version each run joined with, when. */
function stream(book: RuleBook, runs: readonly [time: number, run: Run][]): string[] {
  const s = createStreamState(0);
  const joined: string[] = [];
  const names = new Map(runs.map(([, r]) => [r.id, r.name]));
  const state = {
    fold: s.fold,
    traces: createTraceState(undefined, (c, how, now) => {
      if (how === "joined") joined.push(`${names.get(c.run!.runId)} v${c.spec.window.ruleVersion}@${now}`);
    }),
  };
  runs.forEach(([time, r], offset) => {
    const j = judgeDecodedRun(book, r, time);
    if (j.kind === "not_ended") return;
    const json = new TextEncoder().encode(JSON.stringify(r));
    streamStep(state, {
      kind: "run",
      offset,
      time,
      run: { runId: r.id, json },
      matches: j.kind === "matched" ? j.matches : [],
      trace: j.trace,
    });
  });
  streamStep(state, { kind: "time", offset: runs.length, time: 10_000_000 });
  return joined;
}

describe("what makes a trace and its root", () => {
  it.each<[string, Partial<Run>, boolean]>([
    ["is_root true", { is_root: true, parent_run_id: "x" }, true],
    ["is_root false, even without a parent", { is_root: false, parent_run_id: null, trace_id: null }, false],
    ["no is_root, no parent, no trace id", { is_root: null, parent_run_id: null, trace_id: null }, true],
    ["no is_root, no parent, its own trace", { is_root: undefined, parent_run_id: undefined, trace_id: "r" }, true],
    ["no is_root, no parent, another trace", { is_root: undefined, parent_run_id: undefined, trace_id: "t" }, false],
    ["no is_root, a parent", { is_root: undefined, parent_run_id: "p", trace_id: "r" }, false],
  ])("%s", (_why, fields, expected) => {
    expect(isTraceRoot({ id: "r", ...fields })).toBe(expected);
  });

  it("keys a trace by tenant and trace id (the run's own id when it has none)", () => {
    expect(traceKeyOf({ id: "r", trace_id: "t", tenant_id: "a" })).toBe("a/t");
    expect(traceKeyOf({ id: "r", trace_id: null, tenant_id: "a" })).toBe("a/r");
  });
});

describe("matchRun with trace-aware rules", () => {
  const verdicts = (book: RuleBook, r: Run): unknown[] => {
    const out: TraceVerdict[] = [];
    const matches = matchRun(book, r, 10, runFacts, undefined, (v) => out.push(v));
    return [
      matches.map((m) => m.ruleId.slice(-1)),
      out.map((v) => [v.spec.window.ruleId.slice(-1), v.candidate, v.tree, v.root]),
    ];
  };

  it("returns no window for them: it tells the trace fold what the run is to each", () => {
    const book = bookOf(
      [0, version(1, LLM_ERROR, { trace_filter: VIP })],
      [0, version(2, ROOT, { tree_filter: TOOL })],
      [0, version(3, LLM_ERROR)],
    );
    expect(verdicts(book, run({ run_type: "llm", status: "error" }))).toEqual([["3"], [["1", true, false, undefined]]]);
    expect(verdicts(book, run({ run_type: "tool" }))).toEqual([[], [["2", false, true, undefined]]]);
    expect(verdicts(book, root({ tags: ["vip"] }))).toEqual([
      [],
      [
        ["1", false, false, true],
        ["2", true, false, true],
      ],
    ]);
    expect(verdicts(book, root({ tags: [] }))).toEqual([
      [],
      [
        ["1", false, false, false],
        ["2", true, false, true],
      ],
    ]);
    // Nothing to say: not a candidate, no tree run, not the root.
    expect(verdicts(book, run())).toEqual([[], []]);
    // Without a listener they are not evaluated at all.
    expect(matchRun(book, run({ run_type: "llm", status: "error" }), 10).map((m) => m.ruleId.slice(-1))).toEqual(["3"]);
  });

  it("samples by trace id: a trace's runs are kept or dropped together", () => {
    const rate = 0.5;
    const book = bookOf([0, version(1, true, { tree_filter: true, sampling_rate: rate })]);
    const ruleId = version(1, true).rule_id;
    const traces = Array.from({ length: 40 }, (_, i) => `30000000-0000-4000-8000-${String(i).padStart(12, "0")}`);
    for (const trace of traces) {
      const kept = sampled(ruleId, trace, rate);
      const runs = [run({}, trace), run({}, trace), root({}, trace)];
      for (const r of runs) expect((verdicts(book, r)[1] as unknown[]).length, trace).toBe(kept ? 1 : 0);
    }
    expect(new Set(traces.map((t) => sampled(ruleId, t, rate))).size).toBe(2);
  });

  it("judges the three filters under one run budget and reports one error per rule", () => {
    const tags = Array.from({ length: 5000 }, String);
    const SEARCH = { in: ["zzz", { var: "tags" }] };
    const book = createRuleBook({ filterSteps: 1000 });
    const v = version(1, true, { trace_filter: SEARCH, tree_filter: { in: ["yyy", { var: "tags" }] } });
    applyRuleVersion(book, { ruleId: v.rule_id, rule: v, effectiveFrom: 0 });
    const errors: string[] = [];
    const out: TraceVerdict[] = [];
    matchRun(
      book,
      root({ tags }),
      10,
      runFacts,
      (spec, e) => errors.push(`${spec.ruleId.slice(-1)}: ${e}`),
      (x) => out.push(x),
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("1,000 steps");
    expect(out.map((x) => [x.candidate, x.tree, x.root])).toEqual([[true, false, false]]);
  });

  it("stores a version whose trace or tree filter no longer validates as invalid, naming the field", () => {
    const book = createRuleBook();
    const bomb = { reduce: [{ var: "tags" }, { merge: [{ var: "accumulator" }, { var: "accumulator" }] }, [1]] };
    const v = version(1, true, { tree_filter: bomb as RuleVersion["tree_filter"] });
    expect(applyRuleVersion(book, { ruleId: v.rule_id, rule: v, effectiveFrom: 0 })).toMatchObject({
      kind: "invalid_filter",
      error: expect.stringMatching(/^tree_filter/) as unknown,
    });
  });

  it("never counts another tenant's runs of the same trace id", () => {
    const book = bookOf([0, version(1, LLM_ERROR, { trace_filter: VIP })]);
    expect(
      stream(book, [
        [1000, run({ name: "error", run_type: "llm", status: "error" })],
        [2000, root({ name: "foreign root", tags: ["vip"], tenant_id: OTHER_TENANT })],
      ]),
    ).toEqual([]);
  });
});

describe("trace-aware rules over a stream, with the rule book", () => {
  it("LLM errors in vip traces: the child joins when its vip root ends; without the tag nothing does", () => {
    const book = bookOf([0, version(1, LLM_ERROR, { trace_filter: VIP })]);
    const child = run({ name: "error", run_type: "llm", status: "error" });
    expect(
      stream(book, [
        [1000, child],
        [2000, run({ name: "ok", run_type: "llm" })],
        [3000, root({ name: "root", tags: ["vip"] })],
      ]),
    ).toEqual(["error v1@3000"]);
    const plain = "40000000-0000-4000-8000-000000000000";
    expect(
      stream(book, [
        [1000, run({ name: "error", run_type: "llm", status: "error" }, plain)],
        [3000, root({ name: "root" }, plain)],
      ]),
    ).toEqual([]);
  });

  it("a tree filter on a tool run: the root of a trace holding one joins", () => {
    const book = bookOf([0, version(1, ROOT, { tree_filter: TOOL })]);
    expect(
      stream(book, [
        [1000, run({ name: "tool", run_type: "tool" })],
        [2000, root({ name: "root" })],
      ]),
    ).toEqual(["root v1@2000"]);
    const other = "50000000-0000-4000-8000-000000000000";
    expect(
      stream(book, [
        [1000, run({ name: "llm", run_type: "llm" }, other)],
        [2000, root({ name: "root" }, other)],
      ]),
    ).toEqual([]);
  });

  it("rule version changed mid-trace: the root is judged by the version in force when it is read; the child keeps its version's window", () => {
    const v1 = version(1, LLM_ERROR, { trace_filter: VIP });
    const v2 = { ...v1, version: 2, trace_filter: { in: ["gold", { var: "tags" }] } };
    const book = bookOf([0, v1], [2500, v2]);
    const child = () => run({ name: "error", run_type: "llm", status: "error" });
    expect(
      stream(book, [
        [1000, child()],
        [3000, root({ name: "root", tags: ["gold"] })],
      ]),
    ).toEqual(["error v1@3000"]);
    const t2 = "60000000-0000-4000-8000-000000000000";
    expect(
      stream(book, [
        [1000, child()],
        [3000, root({ name: "root", tags: ["vip"] }, t2)],
      ]),
    ).toEqual([]);
  });

  it("rule deleted mid-trace: its runs give it no facts after, so what it held is dropped at the horizon", () => {
    const v1 = version(1, LLM_ERROR, { trace_filter: VIP, trace_horizon_seconds: 60 });
    const book = bookOf([0, v1], [2500, { deleted: v1.rule_id }]);
    expect(
      stream(book, [
        [1000, run({ name: "error", run_type: "llm", status: "error" })],
        [3000, root({ name: "root", tags: ["vip"] })],
      ]),
    ).toEqual([]);
  });

  it("takes the default horizon from the book's options, and a version's own when it names one", () => {
    const book = createRuleBook({ traceHorizonSeconds: 30 });
    const a = version(1, true, { tree_filter: TOOL });
    const b = version(2, true, { tree_filter: TOOL, trace_horizon_seconds: 90 });
    for (const v of [a, b]) applyRuleVersion(book, { ruleId: v.rule_id, rule: v, effectiveFrom: 0 });
    expect(book.longestHorizonMs).toBe(90_000);
    const out: TraceVerdict[] = [];
    matchRun(book, run(), 10, runFacts, undefined, (v) => out.push(v));
    expect(out.map((v) => v.spec.horizonMs)).toEqual([30_000, 90_000]);
  });
});

describe("a trace-only pass (a restart's trace prefix)", () => {
  const plainBefore = version(1, LLM_ERROR);
  const traced = version(2, LLM_ERROR, { trace_filter: VIP });
  const plainAfter = version(3, TOOL);
  const other = ruleVersion(OTHER_TENANT, 4, TOOL);
  function book(runSteps?: number): RuleBook {
    const b = createRuleBook(runSteps === undefined ? {} : { runSteps });
    for (const v of [plainBefore, traced, plainAfter, other])
      applyRuleVersion(b, { ruleId: v.rule_id, rule: v, effectiveFrom: 0 });
    return b;
  }
  const runs = [
    run({ run_type: "llm", status: "error" }),
    run({ run_type: "tool" }),
    root({ tags: ["vip"] }),
    root({ tags: [] }),
    run({ run_type: "tool", tenant_id: OTHER_TENANT }),
  ];

  it.each([
    ["within the run's step budget", undefined],
    ["when a plain rule before the trace-aware one spends the run's whole budget", 1],
  ])("tells the trace fold exactly what the full pass does, %s", (_why, runSteps) => {
    const b = book(runSteps);
    for (const r of runs) {
      const full = judgeDecodedRun(b, { ...r }, 10);
      const only = judgeDecodedRun(b, { ...r }, 10, runFacts, true);
      expect(only.kind === "not_ended" ? undefined : only.trace).toEqual(
        full.kind === "not_ended" ? undefined : full.trace,
      );
    }
  });

  it("judges no rule after the tenant's last trace-aware one, and no tenant without one", () => {
    const b = book();
    const tool = judgeDecodedRun(b, run({ run_type: "tool" }), 10, runFacts, true);
    expect(tool.kind).toBe("not_matched");
    const full = judgeDecodedRun(b, run({ run_type: "tool" }), 10);
    expect(full.kind === "matched" && full.matches.map((m) => m.ruleId)).toEqual([plainAfter.rule_id]);
    const elsewhere = judgeDecodedRun(b, run({ run_type: "tool", tenant_id: OTHER_TENANT }), 10, runFacts, true);
    expect(elsewhere).toMatchObject({ kind: "not_matched", trace: undefined });
  });
});
