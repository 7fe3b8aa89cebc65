import { describe, expect, it } from "vitest";
import type { Run, RuleVersion } from "@runhooks/contracts";
import { applyRuleVersion, createRuleBook, judgeDecodedRun, type RunJudgement } from "@runhooks/rules";
import { ruleVersion } from "./rule-version.js";

const TENANT = "5b0e7c1d-3f2a-4d6b-9e8c-1a2b3c4d5e6f";
const OTHER_TENANT = "6c1f8d2e-4a3b-4e7c-8f9d-2b3c4d5e6f70";
const SESSION = "7d2a9e3f-5b4c-4f8d-9a0e-3c4d5e6f7081";

const version = (n: number, filter: unknown, extra: Partial<RuleVersion> = {}): RuleVersion =>
  ruleVersion(TENANT, n, filter, extra);

const run = (fields: Partial<Run> = {}): Run => ({
  id: "10000000-0000-4000-8000-000000000001",
  name: "ChatOpenAI",
  run_type: "llm",
  start_time: "2024-04-05T01:28:54.085Z",
  end_time: "2024-04-05T01:28:55.085Z",
  tenant_id: TENANT,
  ...fields,
});

const LLM = { "==": [{ var: "run_type" }, "llm"] };
// Cheap on ordinary runs; a run with many tags takes it past a small budget.
const SEARCH = { in: ["zzz", { var: "tags" }] };

/** The fields a row checks: the kind, the rules matched, the rules that answered "error". */
function summary(j: RunJudgement): unknown {
  const last = (id: string) => id.slice(-1);
  if (j.kind === "not_ended") return ["not_ended"];
  const errors = j.ruleErrors.map((e) => last(e.spec.ruleId));
  return j.kind === "matched" ? ["matched", j.matches.map((m) => last(m.ruleId)), errors] : ["not_matched", errors];
}

describe("judging a decoded run, in the evaluator's order", () => {
  it.each<[string, RuleVersion[], Partial<Run>, unknown]>([
    ["not ended: waits, whatever the rules", [version(1, LLM)], { end_time: null }, ["not_ended"]],
    ["no end_time at all", [version(1, LLM)], { end_time: undefined }, ["not_ended"]],
    ["the filter holds", [version(1, LLM)], {}, ["matched", ["1"], []]],
    ["the filter does not hold", [version(1, LLM)], { run_type: "chain" }, ["not_matched", []]],
    ["a disabled rule", [version(1, LLM, { enabled: false })], {}, ["not_matched", []]],
    ["another tenant's rule", [version(1, LLM, { tenant_id: OTHER_TENANT })], {}, ["not_matched", []]],
    [
      "a rule of another session",
      [version(1, LLM, { session_id: SESSION })],
      { session_id: null },
      ["not_matched", []],
    ],
    [
      "a rule of the run's session",
      [version(1, LLM, { session_id: SESSION })],
      { session_id: SESSION },
      ["matched", ["1"], []],
    ],
    [
      "sampled out: the filter is never asked",
      [version(1, SEARCH, { sampling_rate: 0 })],
      { tags: Array.from({ length: 5000 }, String) },
      ["not_matched", []],
    ],
    [
      "over the filter's budget: a rule error",
      [version(1, SEARCH)],
      { tags: Array.from({ length: 5000 }, String) },
      ["not_matched", ["1"]],
    ],
    [
      "one rule matches, another errs",
      [version(1, SEARCH), version(2, LLM)],
      { tags: Array.from({ length: 5000 }, String) },
      ["matched", ["2"], ["1"]],
    ],
  ])("%s", (_why, versions, fields, expected) => {
    const book = createRuleBook({ filterSteps: 1000 });
    for (const v of versions) applyRuleVersion(book, { ruleId: v.rule_id, rule: v, effectiveFrom: 0 });
    expect(summary(judgeDecodedRun(book, run(fields), 10))).toEqual(expected);
  });

  it("judges by the versions in force at the time given", () => {
    const book = createRuleBook();
    applyRuleVersion(book, { ruleId: version(1, LLM).rule_id, rule: version(1, LLM), effectiveFrom: 100 });
    expect(summary(judgeDecodedRun(book, run(), 99))).toEqual(["not_matched", []]);
    expect(summary(judgeDecodedRun(book, run(), 100))).toEqual(["matched", ["1"], []]);
  });
});
