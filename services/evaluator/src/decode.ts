import {
  Run,
  SCHEMA_VERSION,
  describeIssues,
  isParsedRun,
  toFieldIssues,
  type DeadLetterReason,
} from "@runhooks/contracts";
import { DEFAULT_MAX_JSON_DEPTH, checkJsonDepth } from "@runhooks/limits";

export type Decoded =
  /** `run` is a fresh object the caller owns (matching writes derived facts onto it). */
  | { readonly ok: true; readonly run: Run }
  | { readonly ok: false; readonly reason: DeadLetterReason; readonly error: string };

/**
 * RUNHOOKS_MAX_RUN_DEPTH's default: ingest's (RUNHOOKS_INGEST_MAX_JSON_DEPTH), so a run ingest accepted
 * is never dead-lettered for its depth; far deeper than LangSmith's runs nest, far shallower than the
 * stack (zod explains a 1,000-deep run with 2,000 frames already in use).
 */
export const DEFAULT_MAX_RUN_DEPTH = DEFAULT_MAX_JSON_DEPTH;

/** What a run message may be: its size in bytes and how deeply its JSON nests (objects and arrays). */
export interface RunLimits {
  readonly maxBytes: number;
  readonly maxDepth: number;
}

/**
 * A runs-topic message's value, checked as DESIGN.md §2 requires. Every refusal says why; the caller
 * dead-letters it with the original bytes. The depth is checked on the bytes before anything
 * recursive (zod, a filter) sees the value, so the answer is the same on every replay.
 */
export function decodeRun(value: Buffer | null, limits: RunLimits): Decoded {
  if (value === null || value.length === 0)
    return { ok: false, reason: "schema_invalid", error: "empty message value" };
  if (value.length > limits.maxBytes) {
    return {
      ok: false,
      reason: "oversized",
      error: `run is ${value.length} bytes; the limit is ${limits.maxBytes} (RUNHOOKS_MAX_RUN_BYTES)`,
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString("utf8"));
  } catch (error) {
    return { ok: false, reason: "invalid_json", error: (error as Error).message };
  }
  const depth = checkJsonDepth(value, limits.maxDepth);
  if (!depth.ok) {
    return {
      ok: false,
      reason: "too_deep",
      error: `run nests objects/arrays more than ${limits.maxDepth} deep (at byte ${depth.atByte}); the limit is ${limits.maxDepth} (RUNHOOKS_MAX_RUN_DEPTH)`,
    };
  }
  const version = (parsed as { schema_version?: unknown } | null)?.schema_version;
  if (version !== undefined && version !== SCHEMA_VERSION) {
    return {
      ok: false,
      reason: "unsupported_version",
      error: `schema_version ${JSON.stringify(version)} is not supported (expected ${SCHEMA_VERSION})`,
    };
  }
  // The fast check accepts exactly what the schema accepts; zod runs only to explain a refusal.
  if (isParsedRun(parsed)) return { ok: true, run: parsed };
  const result = Run.safeParse(parsed);
  if (!result.success)
    return { ok: false, reason: "schema_invalid", error: describeIssues(toFieldIssues(result.error)) };
  return { ok: true, run: result.data };
}
