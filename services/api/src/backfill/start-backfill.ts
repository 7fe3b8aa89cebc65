import { randomUUID } from "node:crypto";
import { createBackfill, type BackfillRecord, type Database } from "@runhooks/db";
import type { FieldIssue } from "@runhooks/contracts";
import type { LogRangeCheck } from "@runhooks/kafka";
import { decideBackfillRange } from "./backfill-range.js";

/** What starting a backfill needs: the store, and whether the runs topic still holds a range. */
export interface BackfillDeps {
  readonly db: Database;
  /** Unset: the API has no Kafka (tests of the routes alone): the range is not checked against retention. */
  readonly runsLog?: ((fromMs: number, nowMs: number) => Promise<LogRangeCheck>) | undefined;
}

export type RangeCheck =
  | { readonly ok: true; readonly fromMs: number; readonly toMs: number | undefined }
  | { readonly ok: false; readonly kind: "invalid"; readonly issues: readonly FieldIssue[] }
  /** The runs topic no longer holds everything since `from` (retention). */
  | { readonly ok: false; readonly kind: "before_retention"; readonly earliestMs: number }
  /** The runs topic could not be read (Kafka unavailable, the topic missing): retriable. */
  | { readonly ok: false; readonly kind: "unavailable"; readonly error: string };

/** Validates a range and checks it against the runs topic's retention (before a rule is saved with it). */
export async function checkBackfillRange(
  deps: BackfillDeps,
  from: unknown,
  to: unknown,
  nowMs: number,
  fromPath = "from",
): Promise<RangeCheck> {
  const range = decideBackfillRange(from, to, nowMs, fromPath);
  if (!range.ok) return { ok: false, kind: "invalid", issues: range.issues };
  if (deps.runsLog !== undefined) {
    let held: LogRangeCheck;
    try {
      held = await deps.runsLog(range.fromMs, nowMs);
    } catch (error) {
      return { ok: false, kind: "unavailable", error: String(error) };
    }
    if (held.kind === "truncated") return { ok: false, kind: "before_retention", earliestMs: held.earliestMs };
  }
  return range;
}

/** The 400 for a `from` the runs topic no longer holds, naming the earliest time it does. */
export function beforeRetentionAnswer(earliestMs: number, fromPath = "from") {
  const earliest = new Date(earliestMs).toISOString();
  return {
    error: "before_retention",
    message:
      `${fromPath} is before the runs the runs topic still holds (its retention, retention.ms): ` +
      `the earliest time available is ${earliest}`,
    earliest_available: earliest,
    issues: [{ path: fromPath, message: `must be at or after ${earliest}` }],
  };
}

export type StartBackfillResult =
  | { readonly kind: "created"; readonly backfill: BackfillRecord }
  | { readonly kind: "already_running"; readonly backfill: BackfillRecord };

export async function startBackfill(
  db: Database,
  tenantId: string,
  ruleId: string,
  ruleVersion: number,
  range: { readonly fromMs: number; readonly toMs: number | undefined },
): Promise<StartBackfillResult> {
  return createBackfill(db, {
    id: randomUUID(),
    tenantId,
    ruleId,
    ruleVersion,
    from: new Date(range.fromMs),
    to: range.toMs === undefined ? undefined : new Date(range.toMs),
  });
}
