import { z } from "zod";
import { Id, SCHEMA_VERSION, UtcTimestamp } from "./common.js";

/** The longest error text a rule-error record carries; longer ones are cut (with a trailing "…"). */
export const RULE_ERROR_TEXT_MAX = 500;

/**
 * A rule version's filter could not judge runs (its verdict was "error", e.g. it ran out of its
 * evaluation budget), on `runhooks.rule-errors` keyed by rule id. One record per rule version per
 * evaluator flush: `count` errors, of which the first is the sample (`run_id`, `log_time`, `error`).
 * The error text is the filter's, never the run's contents or a secret.
 */
export const RuleError = z.strictObject({
  schema_version: z.literal(SCHEMA_VERSION),
  tenant_id: Id,
  rule_id: Id,
  rule_version: z.number().int().positive(),
  run_id: Id,
  /** The sample run's log time on the runs topic. */
  log_time: UtcTimestamp,
  error: z.string().max(RULE_ERROR_TEXT_MAX + 1),
  count: z.number().int().positive(),
});
export type RuleError = z.infer<typeof RuleError>;
