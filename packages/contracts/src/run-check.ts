import { Id, Timestamp } from "./common.js";
import { DECIMAL, type Run } from "./run.js";

/**
 * A fast, allocation-free check that a value produced by `JSON.parse` is a valid `Run`: exactly
 * `Run.safeParse(value).success`, for JSON values (a differential test holds it to that). It exists
 * because the zod schema walks every nested JSON value of `inputs`/`outputs`/`extra`, which JSON.parse
 * output is by construction, and costs several times the parse itself on the evaluator's hot path.
 * On `false`, run zod for the messages naming each field.
 */

// The very patterns the zod schemas use, so both agree by construction.
const GUID = Id.def.pattern!;
const INSTANT = Timestamp.def.pattern!;

type Check = (v: unknown) => boolean;

const isString: Check = (v) => typeof v === "string";
const isNonEmptyString: Check = (v) => typeof v === "string" && v.length > 0;
const isGuid: Check = (v) => typeof v === "string" && GUID.test(v);
const isInstant: Check = (v) => typeof v === "string" && INSTANT.test(v);
const isBoolean: Check = (v) => typeof v === "boolean";
const isCount: Check = (v) => typeof v === "number" && Number.isInteger(v) && v >= 0;
const isCost: Check = (v) => typeof v === "number" || (typeof v === "string" && DECIMAL.test(v));
const isObject: Check = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
const isArray: Check = (v) => Array.isArray(v);
const isGuidList: Check = (v) => Array.isArray(v) && v.every(isGuid);
const isStringList: Check = (v) => Array.isArray(v) && v.every(isString);

/** Required fields: present and valid. */
const REQUIRED: readonly (readonly [string, Check])[] = [
  ["id", isGuid],
  ["name", isNonEmptyString],
  ["run_type", isNonEmptyString],
  ["start_time", isInstant],
  ["tenant_id", isGuid],
];

/** Optional fields: absent, null, or valid. */
const NULLISH: readonly (readonly [string, Check])[] = [
  ["status", isString],
  ["end_time", isInstant],
  ["trace_id", isGuid],
  ["dotted_order", isString],
  ["parent_run_id", isGuid],
  ["parent_run_ids", isGuidList],
  ["child_run_ids", isGuidList],
  ["direct_child_run_ids", isGuidList],
  ["is_root", isBoolean],
  ["session_id", isGuid],
  ["error", isString],
  ["inputs", isObject],
  ["outputs", isObject],
  ["extra", isObject],
  ["events", isArray],
  ["tags", isStringList],
  ["serialized", isObject],
  ["total_tokens", isCount],
  ["prompt_tokens", isCount],
  ["completion_tokens", isCount],
  ["total_cost", isCost],
  ["prompt_cost", isCost],
  ["completion_cost", isCost],
  ["first_token_time", isInstant],
  ["app_path", isString],
  ["in_dataset", isBoolean],
  ["last_queued_at", isInstant],
  ["modified_at", isInstant],
  ["share_token", isString],
  ["feedback_stats", isObject],
  ["inputs_s3_urls", isObject],
  ["outputs_s3_urls", isObject],
  ["reference_example_id", isGuid],
];

export function isParsedRun(value: unknown): value is Run {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const run = value as Record<string, unknown>;
  const version = run["schema_version"];
  if (version !== undefined && version !== 1) return false;
  for (const [key, check] of REQUIRED) if (!check(run[key])) return false;
  for (const [key, check] of NULLISH) {
    const v = run[key];
    if (v !== undefined && v !== null && !check(v)) return false;
  }
  return true;
}
