import { isInstantString } from "./instant-check.js";
import { DECIMAL, type Run } from "./run.js";

/**
 * A fast, allocation-free check that a value produced by `JSON.parse` is a valid `Run`: exactly
 * `Run.safeParse(value).success`, for JSON values (a differential test holds it to that). It exists
 * because the zod schema walks every nested JSON value of `inputs`/`outputs`/`extra`, which JSON.parse
 * output is by construction, and costs several times the parse itself on the evaluator's hot path.
 * On `false`, run zod for the messages naming each field.
 *
 * Every field is read by name, in straight-line code: runs parsed from one producer share a hidden
 * class, so each read is a monomorphic inline cache hit, where a loop over field names made ~40
 * megamorphic keyed lookups per run (more than half of the check's time).
 */

/** 1 for the char codes of hex digits (0-9, A-F, a-f). */
const HEX = new Uint8Array(128);
for (const c of "0123456789abcdefABCDEF") HEX[c.charCodeAt(0)] = 1;

function isHexRun(v: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (HEX[v.charCodeAt(i)] !== 1) return false;
  return true;
}

/**
 * `Id`'s pattern (`8-4-4-4-12` hex digits) by hand: the regex costs a quarter of a microsecond per
 * id, and a run has four or five. The differential test holds the two to the same answers.
 */
export function isGuidString(v: string): boolean {
  return (
    v.length === 36 &&
    v.charCodeAt(8) === 45 &&
    v.charCodeAt(13) === 45 &&
    v.charCodeAt(18) === 45 &&
    v.charCodeAt(23) === 45 &&
    isHexRun(v, 0, 8) &&
    isHexRun(v, 9, 13) &&
    isHexRun(v, 14, 18) &&
    isHexRun(v, 19, 23) &&
    isHexRun(v, 24, 36)
  );
}

const isNonEmptyString = (v: unknown) => typeof v === "string" && v.length > 0;
const isGuid = (v: unknown) => typeof v === "string" && isGuidString(v);
const isInstant = (v: unknown) => typeof v === "string" && isInstantString(v);
const isCount = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 0;
const isCost = (v: unknown) => typeof v === "number" || (typeof v === "string" && DECIMAL.test(v));
const isObject = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
const isGuidList = (v: unknown) => Array.isArray(v) && v.every(isGuid);
const isStringList = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === "string");
/** Optional fields: absent or null is fine (`== null` is exactly those two). */
const absent = (v: unknown) => v === undefined || v === null;

/** The run's fields as JSON.parse leaves them: anything, until checked. */
type Unchecked = { readonly [K in keyof Run]?: unknown };

export function isParsedRun(value: unknown): value is Run {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const r = value as Unchecked;
  return (
    // Required: present and valid.
    isGuid(r.id) &&
    isNonEmptyString(r.name) &&
    isNonEmptyString(r.run_type) &&
    isInstant(r.start_time) &&
    isGuid(r.tenant_id) &&
    optionalFieldsValid(r)
  );
}

/**
 * The same check for an update of a run (`Run.partial()`: every field may be absent, each present one
 * valid): exactly `Run.partial().safeParse(value).success` for JSON values (differential test).
 */
export function isParsedRunPatch(value: unknown): value is Partial<Run> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const r = value as Unchecked;
  return (
    // Required in a run, optional in an update: absent or valid (not null).
    (r.id === undefined || isGuid(r.id)) &&
    (r.name === undefined || isNonEmptyString(r.name)) &&
    (r.run_type === undefined || isNonEmptyString(r.run_type)) &&
    (r.start_time === undefined || isInstant(r.start_time)) &&
    (r.tenant_id === undefined || isGuid(r.tenant_id)) &&
    optionalFieldsValid(r)
  );
}

/** The fields optional in a run (absent, null, or valid) and the schema version (absent or 1). */
function optionalFieldsValid(r: Unchecked): boolean {
  const version = r.schema_version;
  if (version !== undefined && version !== 1) return false;
  return (
    // Optional: absent, null, or valid.
    (absent(r.status) || typeof r.status === "string") &&
    (absent(r.end_time) || isInstant(r.end_time)) &&
    (absent(r.trace_id) || isGuid(r.trace_id)) &&
    (absent(r.dotted_order) || typeof r.dotted_order === "string") &&
    (absent(r.parent_run_id) || isGuid(r.parent_run_id)) &&
    (absent(r.parent_run_ids) || isGuidList(r.parent_run_ids)) &&
    (absent(r.child_run_ids) || isGuidList(r.child_run_ids)) &&
    (absent(r.direct_child_run_ids) || isGuidList(r.direct_child_run_ids)) &&
    (absent(r.is_root) || typeof r.is_root === "boolean") &&
    (absent(r.session_id) || isGuid(r.session_id)) &&
    (absent(r.error) || typeof r.error === "string") &&
    (absent(r.inputs) || isObject(r.inputs)) &&
    (absent(r.outputs) || isObject(r.outputs)) &&
    (absent(r.extra) || isObject(r.extra)) &&
    (absent(r.events) || Array.isArray(r.events)) &&
    (absent(r.tags) || isStringList(r.tags)) &&
    (absent(r.serialized) || isObject(r.serialized)) &&
    (absent(r.total_tokens) || isCount(r.total_tokens)) &&
    (absent(r.prompt_tokens) || isCount(r.prompt_tokens)) &&
    (absent(r.completion_tokens) || isCount(r.completion_tokens)) &&
    (absent(r.total_cost) || isCost(r.total_cost)) &&
    (absent(r.prompt_cost) || isCost(r.prompt_cost)) &&
    (absent(r.completion_cost) || isCost(r.completion_cost)) &&
    (absent(r.first_token_time) || isInstant(r.first_token_time)) &&
    (absent(r.app_path) || typeof r.app_path === "string") &&
    (absent(r.in_dataset) || typeof r.in_dataset === "boolean") &&
    (absent(r.last_queued_at) || isInstant(r.last_queued_at)) &&
    (absent(r.modified_at) || isInstant(r.modified_at)) &&
    (absent(r.share_token) || typeof r.share_token === "string") &&
    (absent(r.feedback_stats) || isObject(r.feedback_stats)) &&
    (absent(r.inputs_s3_urls) || isObject(r.inputs_s3_urls)) &&
    (absent(r.outputs_s3_urls) || isObject(r.outputs_s3_urls)) &&
    (absent(r.reference_example_id) || isGuid(r.reference_example_id))
  );
}
