import { sql, type Queryable } from "@databases/pg";
import { pgArray } from "./pg-array.js";

/** Why a claimed delivery is ended without an attempt (recorded as its `last_outcome`). */
export type UnsentReason = "webhook_removed" | "webhook_disabled";

export interface UnsentDelivery {
  readonly id: string;
  /** The attempt number its claim took: given back, since nothing was sent. */
  readonly attempt: number;
  readonly reason: UnsentReason;
}

/**
 * Ends claimed deliveries that will not be sent: `cancelled` when their webhook is no longer in the
 * rule's current version (or the rule was deleted), `skipped` when it is disabled (recoverable). The
 * claim's attempt number is given back (no attempt was made); the reason is the delivery's
 * `last_outcome`. Only deliveries still under that claim are touched. Returns how many were ended.
 */
export async function endUnsent(db: Queryable, unsent: readonly UnsentDelivery[]): Promise<number> {
  if (unsent.length === 0) return 0;
  const rows = (await db.query(sql`
    UPDATE deliveries d SET
      status = CASE WHEN v.reason = 'webhook_disabled' THEN 'skipped' ELSE 'cancelled' END,
      attempts = d.attempts - 1, round_attempts = greatest(d.round_attempts - 1, 0),
      next_attempt_at = NULL, lease_until = NULL, claimed_by = NULL, last_outcome = v.reason,
      updated_at = now(), completed_at = now()
    FROM unnest(${pgArray(unsent.map((u) => u.id))}::uuid[], ${pgArray(unsent.map((u) => u.attempt))}::int[],
      ${pgArray(unsent.map((u) => u.reason))}::text[]) AS v(id, attempt, reason)
    WHERE d.id = v.id AND d.status = 'in_flight' AND d.attempts = v.attempt
    RETURNING d.id`)) as unknown[];
  return rows.length;
}
