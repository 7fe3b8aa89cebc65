import { z } from "zod";
import { Id, JsonValue, SCHEMA_VERSION, Timestamp } from "./common.js";

const nullableId = Id.nullish();
const idList = z.array(Id).nullish();
const count = z.number().int().nonnegative().nullish();
/** LangSmith serialises costs as numbers, or as decimal strings from some endpoints. */
/** A decimal string as LangSmith writes costs; shared with the fast check in run-check.ts. */
export const DECIMAL = /^-?\d+(\.\d+)?(e-?\d+)?$/i;
const cost = z.union([z.number(), z.string().regex(DECIMAL, "must be a decimal number")]).nullish();
const jsonObject = z.record(z.string(), JsonValue).nullish();

/**
 * A run as LangSmith stores it (LangSmith's example payload), produced to `runhooks.runs`.
 *
 * Invariants: `id`, `name`, `run_type`, `start_time` and `tenant_id` are required — without a tenant no
 * rule can be scoped to the run. Unknown fields are kept and passed through to webhooks unchanged.
 * `schema_version` is optional because producers write LangSmith's format as-is; absent means 1.
 */
export const Run = z.looseObject({
  schema_version: z.literal(SCHEMA_VERSION).optional(),
  id: Id,
  name: z.string().min(1, "must not be empty"),
  run_type: z.string().min(1, "must not be empty"),
  status: z.string().nullish(),
  start_time: Timestamp,
  end_time: Timestamp.nullish(),
  trace_id: nullableId,
  dotted_order: z.string().nullish(),
  parent_run_id: nullableId,
  parent_run_ids: idList,
  child_run_ids: idList,
  direct_child_run_ids: idList,
  is_root: z.boolean().nullish(),
  session_id: nullableId,
  tenant_id: Id,
  error: z.string().nullish(),
  inputs: jsonObject,
  outputs: jsonObject,
  extra: jsonObject,
  events: z.array(JsonValue).nullish(),
  tags: z.array(z.string()).nullish(),
  serialized: jsonObject,
  total_tokens: count,
  prompt_tokens: count,
  completion_tokens: count,
  total_cost: cost,
  prompt_cost: cost,
  completion_cost: cost,
  first_token_time: Timestamp.nullish(),
  app_path: z.string().nullish(),
  in_dataset: z.boolean().nullish(),
  last_queued_at: Timestamp.nullish(),
  modified_at: Timestamp.nullish(),
  share_token: z.string().nullish(),
  feedback_stats: jsonObject,
  inputs_s3_urls: jsonObject,
  outputs_s3_urls: jsonObject,
  reference_example_id: nullableId,
});
export type Run = z.infer<typeof Run>;

/** The Kafka key of a run: all runs of a trace share a partition. */
export function runKey(run: Pick<Run, "id" | "trace_id">): string {
  return run.trace_id ?? run.id;
}

/**
 * A stream-time marker the evaluator appends to idle partitions (header `runhooks-kind: tick`), so that
 * windows close from the log alone. Consumers other than the evaluator skip it.
 */
export const Tick = z.strictObject({
  schema_version: z.literal(SCHEMA_VERSION),
  kind: z.literal("tick"),
  /** Which evaluator instance wrote it; for debugging only, never used in a decision. */
  source: z.string().min(1),
});
export type Tick = z.infer<typeof Tick>;
