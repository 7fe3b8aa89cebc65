/**
 * The fields of LangSmith's rule documents (`RunRulesCreateSchema`, `RunRulesSchema`) that runhooks
 * does not map onto a rule of its own, and why. Pure data.
 */

/** LangSmith fields runhooks will take but does not yet: refused "not supported yet" while listed. */
export type LangSmithLaterField = "trace_filter" | "tree_filter" | "backfill_from";

/** Every field of that kind: unlisted in the refusal list below, each passes to the rule as it is. */
export const LANGSMITH_LATER_FIELDS: readonly LangSmithLaterField[] = ["trace_filter", "tree_filter", "backfill_from"];

/**
 * The fields still refused with "not supported yet". Removing a name here makes the LangSmith API
 * pass the field to the runhooks rule document under the same name (where the rule's own validation
 * judges it) and show it back from the stored rule.
 */
export const LANGSMITH_FIELDS_NOT_YET_SUPPORTED: readonly LangSmithLaterField[] = [];

/** What each later field does in LangSmith, for the refusal's message. */
export const LATER_FIELD_MEANING: Readonly<Record<LangSmithLaterField, string>> = {
  trace_filter: "a filter on the root run of each run's trace",
  tree_filter: "a filter on any run of each run's trace",
  backfill_from: "applying a new rule to the runs logged since a past time",
};

/**
 * LangSmith rule fields that ask for something runhooks does not have (runhooks rules send webhooks
 * only), each with the feature it belongs to, for the refusal's message ("runhooks does not have …").
 * An empty value (null, false, "", [], {}) asks for nothing and is accepted: SDKs send some of them
 * empty.
 */
export const LANGSMITH_UNSUPPORTED_FIELDS: Readonly<Record<string, string>> = {
  dataset_id: "rules over datasets (a rule applies to a tracing project: session_id)",
  add_to_dataset_id: "adding runs to datasets",
  add_to_dataset_prefer_correction: "adding runs to datasets",
  add_to_annotation_queue_id: "annotation queues",
  create_alignment_queue: "annotation queues",
  evaluators: "LLM-as-judge evaluators",
  code_evaluators: "code evaluators",
  evaluator_id: "evaluators",
  evaluator_version: "evaluators",
  use_corrections_dataset: "evaluators (few-shot corrections)",
  num_few_shot_examples: "evaluators (few-shot examples)",
  alerts: "PagerDuty alerts",
  extend_only: "trace retention",
  extend_evaluator_trace_retention: "trace retention",
  extend_dataset_trace_retention: "trace retention",
  extend_annotation_queue_trace_retention: "trace retention",
  extend_webhook_trace_retention: "trace retention",
  is_tracing_disabled: "evaluator tracing settings",
  include_extended_stats: "evaluator statistics",
  transient: "transient rules",
  group_by: "rules over threads (group_by)",
  spend_limit: "evaluator spend limits",
  tracer_session_issue_id: "project issues",
};

/**
 * Fields of a rule as LangSmith (or this API) shows it that a client may send back with the rest:
 * read-only, so they are ignored, as LangSmith ignores them.
 */
export const LANGSMITH_READ_ONLY_FIELDS: readonly string[] = [
  "id",
  "tenant_id",
  "session_name",
  "dataset_name",
  "created_at",
  "updated_at",
  "backfill_id",
  "backfill_status",
  "backfill_progress",
  "backfill_error",
  "backfill_completed_at",
  "add_to_annotation_queue_name",
  "add_to_dataset_name",
  "corrections_dataset_id",
  "alignment_annotation_queue_id",
  "is_managed_evaluator",
];

/** An empty value asks for nothing: null, false, "", an empty array or object. */
export function isEmptyValue(value: unknown): boolean {
  if (value === null || value === undefined || value === false) return true;
  if (typeof value === "string") return value.trim() === "";
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === "object" && Object.keys(value).length === 0;
}
