export { applyRuleVersion, createRuleBook, matchRun } from "./rule-book.js";
export type { ApplyOutcome, RuleBook } from "./rule-book.js";
