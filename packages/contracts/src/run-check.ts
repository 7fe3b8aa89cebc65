import { Timestamp } from "./common.js";
import { DECIMAL, type Run } from "./run.js";

/**
 * A fast, allocation-free check that a value produced by `JSON.parse` is a valid `Run`: exactly
 * `Run.safeParse(value).success`, for JSON values (a differential test holds it to that). It exists
 * because the zod schema walks every nested JSON value of `inputs`/`outputs`/`extra`, which JSON.parse
 * output is by construction, and costs several times the parse itself on the evaluator's hot path.
 * On `false`, run zod for the messages naming each field.
 */

// The very pattern the zod schema uses for timestamps, so both agree by construction.
const INSTANT = Timestamp.def.pattern!;

/** Hex digit by char code: 0-9, A-F, a-f. */
function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/**
 * `Id`'s pattern (`8-4-4-4-12` hex digits) by hand: the regex costs a quarter of a microsecond per
 * id, and a run has four or five. The differential test holds the two to the same answers.
 */
function isGuidString(v: string): boolean {
  if (v.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = v.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (!isHex(c)) return false;
  }
  return true;
}

type Check = (v: unknown) => boolean;

const isString: Check = (v) => typeof v === "string";
const isNonEmptyString: Check = (v) => typeof v === "string" && v.length > 0;
const isGuid: Check = (v) => typeof v === "string" && isGuidString(v);
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

/** How a field is judged: required (present and valid), nullish (absent, null or valid), optional (absent or valid). */
const REQUIRED_FIELD = 0;
const NULLISH_FIELD = 1;
const OPTIONAL_FIELD = 2;

/** Every field the check knows, by name. */
interface Field {
  readonly check: Check;
  readonly kind: number;
}
const FIELDS: ReadonlyMap<string, Field> = new Map<string, Field>([
  ...REQUIRED.map(([key, check]): [string, Field] => [key, { check, kind: REQUIRED_FIELD }]),
  ...NULLISH.map(([key, check]): [string, Field] => [key, { check, kind: NULLISH_FIELD }]),
  ["schema_version", { check: (v) => v === 1, kind: OPTIONAL_FIELD }],
]);

export function isParsedRun(value: unknown): value is Run {
  return checkRun(value, REQUIRED_FIELD);
}

/**
 * The same check for an update of a run (`Run.partial()`: every field may be absent, each present one
 * valid): exactly `Run.partial().safeParse(value).success` for JSON values (differential test).
 */
export function isParsedRunPatch(value: unknown): value is Partial<Run> {
  return checkRun(value, OPTIONAL_FIELD);
}

/** `required`: how the required fields are judged — REQUIRED_FIELD for a run, OPTIONAL_FIELD for an update. */
function checkRun(value: unknown, required: number): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const run = value as Record<string, unknown>;
  // Walks the fields the run has (~15) rather than looking up every field the check knows (~40): in a
  // busy process, keyed loads of absent names miss V8's lookup caches and cost several times the rest.
  let present = 0;
  for (const key in run) {
    const field = FIELDS.get(key);
    if (field === undefined) continue;
    const v = run[key];
    const kind = field.kind === REQUIRED_FIELD ? required : field.kind;
    if (kind === REQUIRED_FIELD) {
      if (!field.check(v)) return false;
      present++;
    } else if (v !== undefined && (v !== null || kind === OPTIONAL_FIELD) && !field.check(v)) {
      return false;
    }
  }
  return required !== REQUIRED_FIELD || present === REQUIRED.length;
}
