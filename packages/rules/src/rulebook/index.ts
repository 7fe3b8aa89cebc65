export {
  DEFAULT_RUN_STEPS,
  applyRuleVersion,
  applyRuleVersions,
  buildIndexes,
  createRuleBook,
  dropVersionsBefore,
  matchRun,
  ruleGate,
} from "./rule-book.js";
export type { ApplyOutcome, RuleBook, RuleBookOptions, RuleGate, RuleVersionMessage } from "./rule-book.js";
export { isTraceAware, sampleIdOf } from "./gate.js";
export { RULE_FILTER_FIELDS, resolveRuleFilter } from "./rule-filters.js";
export type { RuleFilterField } from "./rule-filters.js";
export { judgeDecodedRun } from "./judge.js";
export type { RuleErrorSample, RunJudgement } from "./judge.js";
export { anyRuleInForce } from "./in-force.js";
