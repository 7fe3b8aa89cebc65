import { sql, type Queryable } from "@databases/pg";
import { pgArray } from "./pg-array.js";

/** The leases of claimed deliveries: renewed by the process holding them, or given back unstarted. */

/**
 * Gives back claimed deliveries whose attempt was never started (a worker stopping): due now, the
 * attempt number and the round's count as they were before the claim.
 */
export async function releaseClaims(
  db: Queryable,
  claims: readonly { id: string; attempt: number }[],
): Promise<number> {
  if (claims.length === 0) return 0;
  const rows = (await db.query(sql`
    UPDATE deliveries d SET
      status = 'pending', next_attempt_at = now(), next_trigger = d.attempt_trigger,
      attempts = d.attempts - 1, round_attempts = greatest(d.round_attempts - 1, 0),
      lease_until = NULL, claimed_by = NULL, updated_at = now()
    FROM unnest(${claims.map((c) => c.id)}::uuid[], ${claims.map((c) => c.attempt)}::int[]) AS v(id, attempt)
    WHERE d.id = v.id AND d.status = 'in_flight' AND d.attempts = v.attempt
    RETURNING d.id`)) as unknown[];
  return rows.length;
}

/**
 * Renews the leases of deliveries this worker still holds (waiting in its lanes, in flight, or finished
 * and not yet recorded), in one statement: a live worker keeps its claims however long they wait, so
 * the lease only bounds how long a dead worker's deliveries wait for another. A delivery already reaped
 * or claimed again (its attempt moved on) is left alone. Returns how many were renewed.
 */
export async function renewLeases(
  db: Queryable,
  claims: readonly { id: string; attempt: number }[],
  o: { readonly claimedBy: string; readonly leaseMs: number },
): Promise<number> {
  if (claims.length === 0) return 0;
  const rows = (await db.query(sql`
    UPDATE deliveries d SET lease_until = now() + ${o.leaseMs} * interval '1 millisecond'
    FROM unnest(${pgArray(claims.map((c) => c.id))}::uuid[], ${pgArray(claims.map((c) => c.attempt))}::int[]) AS v(id, attempt)
    WHERE d.id = ANY(${pgArray(claims.map((c) => c.id))}::uuid[]) AND d.id = v.id AND d.attempts = v.attempt
      AND d.status = 'in_flight' AND d.claimed_by = ${o.claimedBy}
    RETURNING d.id`)) as unknown[];
  return rows.length;
}
