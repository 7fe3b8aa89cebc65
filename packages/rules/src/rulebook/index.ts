export { applyRuleVersion, createRuleBook, matchRun } from "./rule-book.js";
export type { ApplyOutcome, RuleBook, RuleBookOptions } from "./rule-book.js";
