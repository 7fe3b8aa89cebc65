import type { ParseResult } from "@runhooks/contracts";
import { resolveFilter, type JsonLogicExpression } from "../filter/index.js";

/** The three filters a rule may carry (DESIGN.md §3–§4): the run's, its trace root's, its tree's. */
export const RULE_FILTER_FIELDS = ["filter", "trace_filter", "tree_filter"] as const;
export type RuleFilterField = (typeof RULE_FILTER_FIELDS)[number];

/**
 * The one place a rule's filter field becomes the JSON-logic the evaluator runs: JSON-logic or a
 * LangSmith string (`resolveFilter`), validated with the same structure and cost bound for each of the
 * three, every issue named from the field (`tree_filter.and[1].var`). The API's validation, the rule
 * book and the dry run all go through it.
 */
export function resolveRuleFilter(field: RuleFilterField, value: unknown): ParseResult<JsonLogicExpression> {
  const result = resolveFilter(value);
  if (result.ok) return { ok: true, value: result.tree };
  if (field === "filter") return result;
  return { ok: false, issues: result.issues.map((i) => ({ ...i, path: i.path.replace(/^filter(?=$|[.[])/, field) })) };
}
