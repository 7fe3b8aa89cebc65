import { describe, expect, it } from "vitest";
import type { Run, RuleVersion } from "@runhooks/contracts";
import { anyRuleInForce, applyRuleVersion, createRuleBook, matchRun, runFacts } from "@runhooks/rules";
import { ruleVersion } from "./rule-version.js";

const TENANT = "2ebda79f-2c6b-4b5c-9d55-1c1f43a2ad11";
const ERRORS = { "==": [{ var: "status" }, "error"] };
const LLM = { "==": [{ var: "run_type" }, "llm"] };

const rule = (n: number, filter: unknown, extra: Partial<RuleVersion> = {}): RuleVersion =>
  ruleVersion(TENANT, n, filter, extra);

const run = (n: number, fields: Partial<Run>): Run => ({
  id: `10000000-0000-4000-8000-00000000000${n}`,
  name: "ChatOpenAI",
  run_type: "chain",
  status: "success",
  start_time: "2024-04-05T01:28:54.085Z",
  end_time: "2024-04-05T01:28:55.085Z",
  tenant_id: TENANT,
  ...fields,
});

describe("matchRun with rules that share a filter", () => {
  const book = createRuleBook();
  for (const r of [rule(1, ERRORS), rule(2, LLM), rule(3, ERRORS), rule(4, ERRORS, { enabled: false })]) {
    applyRuleVersion(book, { ruleId: r.rule_id, rule: r, effectiveFrom: 0 });
  }
  const matched = (r: Run) => matchRun(book, r, 10).map((s) => s.ruleId.slice(-1));

  it("answers each rule as if alone, run after run (no answer carries over to the next run)", () => {
    expect(matched(run(1, { status: "error" }))).toEqual(["1", "3"]);
    expect(matched(run(2, { run_type: "llm" }))).toEqual(["2"]);
    expect(matched(run(3, { status: "error", run_type: "llm" }))).toEqual(["1", "2", "3"]);
    expect(matched(run(4, {}))).toEqual([]);
  });

  it("evaluates a shared filter once per run", () => {
    let statusReads = 0;
    const counting = (r: Run) => {
      const facts = runFacts(r);
      const status = facts["status"];
      Object.defineProperty(facts, "status", { get: () => (statusReads++, status) });
      return facts;
    };
    expect(matchRun(book, run(5, { status: "error" }), 10, counting).map((s) => s.ruleId.slice(-1))).toEqual([
      "1",
      "3",
    ]);
    expect(statusReads).toBe(1); // rules 1 and 3 share the filter; rule 4 is disabled
  });
});

describe("matchRun with filters as written on the rules topic", () => {
  const book = createRuleBook();
  // A LangSmith string, the same filter as JSON-logic, and stored bare literals (match-all before).
  const outcomes = [
    rule(1, 'and(eq(run_type, "llm"), eq(status, "error"))'),
    rule(2, { and: [LLM, ERRORS] }),
    rule(3, 5),
    rule(4, ["x"]),
    rule(5, "eq(run_type, llm)"),
  ].map((r) => applyRuleVersion(book, { ruleId: r.rule_id, rule: r, effectiveFrom: 0 }));

  it("compiles a LangSmith string, and stores a bare number, an array or a bad string as invalid", () => {
    expect(outcomes.map((o) => o.kind)).toEqual([
      "applied",
      "applied",
      "invalid_filter",
      "invalid_filter",
      "invalid_filter",
    ]);
    expect(outcomes[2]).toMatchObject({
      error: expect.stringContaining("is a number, which is not a filter") as unknown,
    });
    expect(outcomes[4]).toMatchObject({ error: expect.stringContaining("line 1, column 14") as unknown });
  });

  it("matches with the string as with its JSON-logic, and shares their evaluation", () => {
    const errors: string[] = [];
    const judge = (r: Run) => matchRun(book, r, 10, runFacts, (spec) => errors.push(spec.ruleId.slice(-1)));
    expect(judge(run(1, { run_type: "llm", status: "error" })).map((s) => s.ruleId.slice(-1))).toEqual(["1", "2"]);
    expect(judge(run(2, { run_type: "tool", status: "error" }))).toEqual([]);
    expect(book.filterSlots.size).toBe(1);
    expect(errors).toEqual(["3", "4", "5", "3", "4", "5"]);
  });
});

describe("matchRun with filters whose verdict is error", () => {
  // Valid, and cheap on ordinary runs; a run with a huge tags array takes it over the budget.
  const SEARCH = { in: ["zzz", { var: "tags" }] };
  // Refused by today's static bound, as if stored before it existed: never compiled.
  const BOMB = {
    "==": [{ reduce: [{ var: "tags" }, { merge: [{ var: "accumulator" }, { var: "accumulator" }] }, [1]] }, "nope"],
  };
  const book = createRuleBook({ filterSteps: 10_000 });
  // Rules 1 and 2 share a filter (one evaluation, two errors); rule 3 matches; rule 4 is the stored bomb.
  const outcomes = [rule(1, SEARCH), rule(2, SEARCH), rule(3, LLM), rule(4, BOMB)].map((r) =>
    applyRuleVersion(book, { ruleId: r.rule_id, rule: r, effectiveFrom: 0 }),
  );

  it("stores a filter that no longer validates as invalid, with the bound in the reason", () => {
    expect(outcomes.map((o) => o.kind)).toEqual(["applied", "applied", "applied", "invalid_filter"]);
    expect(outcomes[3]).toMatchObject({ error: expect.stringContaining("grows exponentially") as unknown });
  });

  it("matches nothing for them and reports each (run, rule) once, with the reason", () => {
    const errors: [string, string][] = [];
    const tags = Array.from({ length: 20_000 }, (_, i) => String(i));
    const matched = matchRun(book, run(1, { run_type: "llm", tags }), 10, runFacts, (spec, error) =>
      errors.push([spec.ruleId.slice(-1), error]),
    );
    expect(matched.map((s) => s.ruleId.slice(-1))).toEqual(["3"]);
    expect(errors.map(([id]) => id)).toEqual(["1", "2", "4"]);
    expect(errors[0]![1]).toContain("10,000 steps");
    expect(errors[2]![1]).toContain("not valid");
  });

  it("reports only the invalid one where the others fit their budget", () => {
    const errors: string[] = [];
    const matched = matchRun(book, run(2, { run_type: "chain", tags: ["a", "zzz"] }), 10, runFacts, (spec) =>
      errors.push(spec.ruleId),
    );
    expect(matched.map((s) => s.ruleId.slice(-1))).toEqual(["1", "2"]);
    expect(errors.map((id) => id.slice(-1))).toEqual(["4"]);
  });
});

describe("matchRun with a run budget shared by the tenant's filters", () => {
  // Each filter is cheap on ordinary runs and takes ~tags.length steps on a run with many tags; the
  // second one differs only in text, so the two are evaluated separately.
  const SEARCH = (needle: string) => ({ in: [needle, { var: "tags" }] });
  const idOf = (n: number) => `00000000-0000-4000-8000-0000000000${String(n).padStart(2, "0")}`;
  const many = (n: number) => ({ ...rule(0, SEARCH(`z${n}`)), rule_id: idOf(n) });
  const build = (order: readonly number[]) => {
    const book = createRuleBook({ filterSteps: 10_000, runSteps: 25_000 });
    for (const n of order) applyRuleVersion(book, { ruleId: idOf(n), rule: many(n), effectiveFrom: 0 });
    applyRuleVersion(book, { ruleId: idOf(99), rule: { ...rule(0, LLM), rule_id: idOf(99) }, effectiveFrom: 0 });
    return book;
  };
  const judge = (book: ReturnType<typeof createRuleBook>, tags: string[]) => {
    const errors: [string, string][] = [];
    const matched = matchRun(book, run(1, { run_type: "llm", tags }), 10, runFacts, (spec, error) =>
      errors.push([spec.ruleId.slice(-2), error]),
    );
    return { matched: matched.map((s) => s.ruleId.slice(-2)), errors };
  };

  it.each([
    // tags on the run, rules evaluated within the run budget, rules answered "error" unevaluated
    { tags: 10, evaluated: ["01", "02", "03", "04", "05", "06", "99"], unevaluated: [] as string[] },
    { tags: 9_000, evaluated: ["01", "02", "03"], unevaluated: ["04", "05", "06", "99"] },
  ])("$tags tags: evaluated $evaluated, not evaluated $unevaluated", ({ tags, evaluated, unevaluated }) => {
    const { matched, errors } = judge(
      build([1, 2, 3, 4, 5, 6]),
      Array.from({ length: tags }, (_, i) => `t${i}`),
    );
    const notEvaluated = errors.filter(([, e]) => e.includes("all of the tenant's filters")).map(([id]) => id);
    expect(notEvaluated).toEqual(unevaluated);
    // The ones evaluated match nothing but the LLM rule, which is last by id.
    expect(matched).toEqual(evaluated.includes("99") ? ["99"] : []);
    expect(errors.filter(([, e]) => !e.includes("all of the tenant's filters"))).toEqual([]);
  });

  it("spends the budget in rule id order, whatever order the rules were read in", () => {
    const tags = Array.from({ length: 9_000 }, (_, i) => `t${i}`);
    const forward = judge(build([1, 2, 3, 4, 5, 6]), tags);
    const backward = judge(build([6, 5, 4, 3, 2, 1]), tags);
    expect(backward).toEqual(forward);
  });
});

describe("whether any rule is in force (idle partitions are ticked while one is)", () => {
  type Step = [ruleNumber: number, effectiveFrom: number, seconds: number | null];
  it.each<[string, Step[], number, boolean]>([
    // [why, versions applied (seconds null: a tombstone), time asked about, in force]
    ["no rule ever", [], 10_000, false],
    ["a rule with a version", [[1, 0, 5]], 10_000, true],
    [
      "a rule deleted less than the longest window ago: its last windows may be open",
      [
        [1, 0, 5],
        [1, 8000, null],
      ],
      12_999,
      true,
    ],
    [
      "a rule deleted a whole longest window ago",
      [
        [1, 0, 5],
        [1, 8000, null],
      ],
      13_000,
      false,
    ],
    [
      "one rule deleted long ago, another live",
      [
        [1, 0, 5],
        [1, 8000, null],
        [2, 9000, 1],
      ],
      60_000,
      true,
    ],
    [
      "deleted long ago, the longest window being another deleted rule's",
      [
        [1, 0, 60],
        [2, 0, 1],
        [1, 1000, null],
        [2, 1000, null],
      ],
      61_000,
      false,
    ],
  ])("%s", (_why, steps, time, expected) => {
    const book = createRuleBook();
    for (const [n, effectiveFrom, seconds] of steps) {
      const r = rule(n, ERRORS, { window: { seconds: seconds ?? 1, max_runs: 100 } });
      const version = (book.rules.get(r.rule_id)?.entries.length ?? 0) + 1;
      applyRuleVersion(book, { ruleId: r.rule_id, rule: seconds === null ? null : { ...r, version }, effectiveFrom });
    }
    expect(anyRuleInForce(book, time)).toBe(expected);
  });
});
