import { MAX_TRACE_HORIZON_SECONDS, MAX_WINDOW_RUNS, MAX_WINDOW_SECONDS, type RuleVersion } from "./rule.js";
import { isGuidString } from "./run-check.js";

/**
 * A fast check that a value produced by `JSON.parse` is a valid `RuleVersion` that the schema would
 * return unchanged: when it answers true, `RuleVersion.safeParse(value)` succeeds with data deep-equal
 * to `value` (a differential test holds it to that). A filter holding a `__proto__` key is left to
 * the schema (it drops such keys), so is anything else this check does not know; on `false`, run zod,
 * which decides and names each field at fault.
 *
 * It exists because an evaluator reads every version of every rule at start, and zod's walk of the
 * strict object and of the filters' JSON costs several times the `JSON.parse` of the message.
 */

type Unchecked = { readonly [K in keyof RuleVersion]?: unknown };

const FIELDS: ReadonlySet<string> = new Set<keyof RuleVersion>([
  "schema_version",
  "kind",
  "rule_id",
  "version",
  "tenant_id",
  "session_id",
  "enabled",
  "filter",
  "trace_filter",
  "tree_filter",
  "trace_horizon_seconds",
  "sampling_rate",
  "window",
]);

const isPlainObject = (v: unknown): v is Readonly<Record<string, unknown>> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

const isGuid = (v: unknown) => typeof v === "string" && isGuidString(v);

const isIntIn = (v: unknown, min: number, max: number) =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= max;

/** Deepest filter this check walks; deeper ones are left to the schema. */
const MAX_JSON_DEPTH = 64;

/** A JSON value the schema's `JsonValue` returns as it is: no `__proto__` key anywhere. */
function isPlainJson(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(v);
    case "object": {
      if (v === null) return true;
      if (depth >= MAX_JSON_DEPTH) return false;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (!(i in v) || !isPlainJson(v[i], depth + 1)) return false;
        return true;
      }
      if (!isPlainObject(v) || Object.hasOwn(v, "__proto__") || Object.getOwnPropertySymbols(v).length > 0)
        return false;
      for (const key in v) if (!isPlainJson(v[key], depth + 1)) return false;
      return true;
    }
    default:
      return false;
  }
}

/** An optional field: absent, or a value `valid` accepts (a key holding `undefined` goes to the schema). */
const optional = (r: Readonly<Record<string, unknown>>, key: string, valid: (v: unknown) => boolean) =>
  !(key in r) || (r[key] !== undefined && valid(r[key]));

const isFilter = (v: unknown) => isPlainJson(v, 0);

function isWindow(v: unknown): boolean {
  if (!isPlainObject(v)) return false;
  for (const key in v) if (key !== "seconds" && key !== "max_runs") return false;
  return isIntIn(v["seconds"], 1, MAX_WINDOW_SECONDS) && isIntIn(v["max_runs"], 1, MAX_WINDOW_RUNS);
}

export function isParsedRuleVersion(value: unknown): value is RuleVersion {
  if (!isPlainObject(value)) return false;
  for (const key in value) if (!FIELDS.has(key)) return false;
  const r = value as Unchecked;
  return (
    r.schema_version === 1 &&
    r.kind === "rule" &&
    isGuid(r.rule_id) &&
    isIntIn(r.version, 1, Number.MAX_SAFE_INTEGER) &&
    isGuid(r.tenant_id) &&
    (r.session_id === null || isGuid(r.session_id)) &&
    typeof r.enabled === "boolean" &&
    r.filter !== undefined &&
    isFilter(r.filter) &&
    optional(value, "trace_filter", isFilter) &&
    optional(value, "tree_filter", isFilter) &&
    optional(value, "trace_horizon_seconds", (v) => isIntIn(v, 1, MAX_TRACE_HORIZON_SECONDS)) &&
    typeof r.sampling_rate === "number" &&
    r.sampling_rate >= 0 &&
    r.sampling_rate <= 1 &&
    isWindow(r.window)
  );
}
