export { validateFilter, DEFAULT_FILTER_LIMITS, type FilterLimits } from "./validate.js";
export { resolveFilter, type ResolvedFilter } from "./resolve.js";
export { parseLangSmithFilter, describeProblem, type LangSmithFilter } from "./langsmith/index.js";
export {
  budgetExhaustedMessage,
  compileFilter,
  type CompileOptions,
  type CompiledFilter,
  type FilterVerdict,
} from "./compile.js";
export { CHARS_PER_STEP, DEFAULT_FILTER_STEPS } from "./budget.js";
export { DEFAULT_COST_LIMITS, filterCost, type CostLimits, type CostOutcome } from "./cost.js";
export { explainFilter, type ExplainOptions, type FilterExplanation, type FilterPartExplanation } from "./explain.js";
export { attachFacts, runFacts, DERIVED_FACTS } from "./facts.js";
export {
  EXTENSION_OPERATORS,
  FILTER_OPERATORS,
  JSON_LOGIC_OPERATORS,
  type ExtensionOperator,
  type FilterOperator,
  type JsonLogicOperator,
} from "./operators.js";
export { FORBIDDEN_PATH_SEGMENTS } from "./var-path.js";
export type { JsonLogicExpression } from "./expression.js";
export { READS_ALL_FACTS, READS_HAS_ERROR, READS_LATENCY, READS_METADATA, derivedFactsRead } from "./reads.js";
