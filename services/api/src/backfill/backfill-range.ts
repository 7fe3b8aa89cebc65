import type { FieldIssue } from "@runhooks/contracts";

/**
 * A backfill's range as a client asks for it (`{"from", "to"?}`, ISO 8601 instants): pure, time passed
 * in. `from` must be in the past; `to`, when given, after `from` (absent: up to the moment the rule
 * version came into force, resolved by the backfill service).
 */
export type BackfillRangeDecision =
  | { readonly ok: true; readonly fromMs: number; readonly toMs: number | undefined }
  | { readonly ok: false; readonly issues: readonly FieldIssue[] };

function instant(value: unknown, path: string, issues: FieldIssue[]): number | undefined {
  if (typeof value !== "string" || Number.isNaN(Date.parse(value))) {
    issues.push({ path, message: "must be an ISO 8601 date-time, e.g. 2026-01-31T00:00:00Z" });
    return undefined;
  }
  return Date.parse(value);
}

export function decideBackfillRange(
  from: unknown,
  to: unknown,
  nowMs: number,
  fromPath = "from",
): BackfillRangeDecision {
  const issues: FieldIssue[] = [];
  const fromMs = instant(from, fromPath, issues);
  const toMs = to === undefined || to === null ? undefined : instant(to, "to", issues);
  if (fromMs !== undefined && fromMs >= nowMs) issues.push({ path: fromPath, message: "must be in the past" });
  if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs)
    issues.push({ path: "to", message: `must be after ${fromPath}` });
  if (issues.length > 0 || fromMs === undefined) return { ok: false, issues };
  return { ok: true, fromMs, toMs };
}
