import { Run, SCHEMA_VERSION, describeIssues, isParsedRun, toFieldIssues, type DeadLetterReason } from "@runhooks/contracts";

export type Decoded =
  /** `run` is a fresh object the caller owns (matching writes derived facts onto it). */
  | { readonly ok: true; readonly run: Run }
  | { readonly ok: false; readonly reason: DeadLetterReason; readonly error: string };

/**
 * A runs-topic message's value, checked as DESIGN.md §2 requires. Every refusal says why; the caller
 * dead-letters it with the original bytes.
 */
export function decodeRun(value: Buffer | null, maxBytes: number): Decoded {
  if (value === null || value.length === 0) return { ok: false, reason: "schema_invalid", error: "empty message value" };
  if (value.length > maxBytes) {
    return { ok: false, reason: "oversized", error: `run is ${value.length} bytes; the limit is ${maxBytes}` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString("utf8"));
  } catch (error) {
    return { ok: false, reason: "invalid_json", error: (error as Error).message };
  }
  const version = (parsed as { schema_version?: unknown } | null)?.schema_version;
  if (version !== undefined && version !== SCHEMA_VERSION) {
    return { ok: false, reason: "unsupported_version", error: `schema_version ${JSON.stringify(version)} is not supported (expected ${SCHEMA_VERSION})` };
  }
  // The fast check accepts exactly what the schema accepts; zod runs only to explain a refusal.
  if (isParsedRun(parsed)) return { ok: true, run: parsed };
  const result = Run.safeParse(parsed);
  if (!result.success) return { ok: false, reason: "schema_invalid", error: describeIssues(toFieldIssues(result.error)) };
  return { ok: true, run: result.data };
}
