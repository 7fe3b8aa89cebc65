export { DEFAULT_RUN_STEPS, applyRuleVersion, createRuleBook, matchRun, ruleGate } from "./rule-book.js";
export type { ApplyOutcome, RuleBook, RuleBookOptions, RuleGate } from "./rule-book.js";
export { judgeDecodedRun } from "./judge.js";
export type { RuleErrorSample, RunJudgement } from "./judge.js";
export { anyRuleInForce } from "./in-force.js";
