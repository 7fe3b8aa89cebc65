import type { Run, RuleVersion } from "@runhooks/contracts";
import { sampled } from "../sampling.js";
import { traceIdOf } from "../trace/trace-run.js";

/** Why a rule version does not judge a run at all, before its filter; the evaluator's order. */
export type RuleGate = "disabled" | "other_tenant" | "other_session" | "sampled_out";

/** What the checks before the filter read of a rule version: all the rule book keeps of it. */
export type GatedRule = Pick<
  RuleVersion,
  "rule_id" | "tenant_id" | "session_id" | "enabled" | "sampling_rate" | "trace_filter" | "tree_filter"
>;

/** A rule with a `trace_filter` or a `tree_filter`: it judges runs with their trace (DESIGN.md §4). */
export function isTraceAware(rule: Pick<RuleVersion, "trace_filter" | "tree_filter">): boolean {
  return rule.trace_filter != null || rule.tree_filter != null;
}

/**
 * The id a rule samples a run by: its trace's for a trace-aware rule, so a trace's runs are kept or
 * dropped together; the run's own otherwise.
 */
export function sampleIdOf(
  rule: Pick<RuleVersion, "trace_filter" | "tree_filter">,
  run: Pick<Run, "id" | "trace_id">,
): string {
  return isTraceAware(rule) ? traceIdOf(run) : run.id;
}

/**
 * The checks before the filter, in the evaluator's order: enabled, same tenant, same session (when the
 * rule names one), sampled in. Sampling comes before the filter, so a sampled-out run never costs a
 * filter evaluation and never reports a filter error. Undefined: the filter decides.
 */
export function ruleGate(
  rule: GatedRule,
  run: Pick<Run, "id" | "trace_id" | "tenant_id" | "session_id">,
): RuleGate | undefined {
  if (!rule.enabled) return "disabled";
  if (rule.tenant_id !== run.tenant_id) return "other_tenant";
  if (rule.session_id !== null && rule.session_id !== run.session_id) return "other_session";
  if (rule.sampling_rate < 1 && !sampled(rule.rule_id, sampleIdOf(rule, run), rule.sampling_rate)) return "sampled_out";
  return undefined;
}
