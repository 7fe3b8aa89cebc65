import { sql, type Queryable, type SQLQuery } from "@databases/pg";
import { markAttemptsPublished, toAttemptRecord, type AttemptRecord, type AttemptRow } from "./delivery-attempts.js";

/** What a dead process leaves behind: deliveries under an expired lease, attempts never published. */

/** Error text of an attempt whose worker stopped during it. */
export const INTERRUPTED_ATTEMPT_ERROR =
  "interrupted: the delivery worker stopped during this attempt; whether the endpoint received it is unknown";

/**
 * Puts deliveries whose lease expired (their worker died or lost the database) back in the queue, due
 * now, and records their attempt as `interrupted`. An interrupted attempt is runhooks'
 * failure, not the endpoint's: it does not count against the round's retries.
 */
export async function reapExpiredLeases(db: Queryable, limit: number): Promise<number> {
  return reapClaims(db, sql`lease_until < now()`, limit);
}

/** Reaps, as `reapExpiredLeases` does, the in-flight deliveries `which` selects (at most `limit`). */
export async function reapClaims(db: Queryable, which: SQLQuery, limit: number): Promise<number> {
  const rows = (await db.query(sql`
    WITH expired AS (
      SELECT id FROM deliveries WHERE status = 'in_flight' AND ${which}
      ORDER BY lease_until LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ), upd AS (
      UPDATE deliveries d SET
        status = 'pending', next_attempt_at = now(), next_trigger = d.attempt_trigger,
        round_attempts = greatest(d.round_attempts - 1, 0), lease_until = NULL, claimed_by = NULL, updated_at = now()
      FROM expired WHERE d.id = expired.id
      RETURNING d.id, d.attempts, d.attempt_trigger, d.claimed_at, d.url
    ), ins AS (
      INSERT INTO delivery_attempts (delivery_id, attempt, trigger, started_at, duration_ms, outcome, error, url, published_at)
      SELECT id, attempts, attempt_trigger, claimed_at, greatest(0, extract(epoch FROM now() - claimed_at) * 1000), 'interrupted',
        ${INTERRUPTED_ATTEMPT_ERROR}, url, now()
      FROM upd
      ON CONFLICT (delivery_id, attempt) DO NOTHING
    )
    SELECT count(*)::int AS n FROM upd`)) as { n: number }[];
  return rows[0]?.n ?? 0;
}

export interface UnpublishedAttempt extends AttemptRecord {
  readonly id: bigint;
  readonly deliveryId: string;
  readonly windowId: string;
  readonly ruleId: string;
  readonly webhookId: string;
}

/**
 * Recorded attempts whose message never reached the attempts topic (the process died in between),
 * recorded at least `olderThanMs` ago. `publish` runs while they are locked, so two sweepers never
 * publish the same row; they are marked published once it resolves.
 */
export async function publishStragglers(
  db: { tx<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> },
  olderThanMs: number,
  limit: number,
  publish: (attempts: readonly UnpublishedAttempt[]) => Promise<void>,
): Promise<number> {
  return db.tx(async (tx) => {
    const rows = (await tx.query(sql`
      SELECT a.id, a.delivery_id, d.window_id, d.rule_id, d.webhook_id, a.url, a.attempt, a.trigger, a.started_at,
        a.duration_ms, a.outcome, a.status_code, a.error, a.response_excerpt
      FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
      WHERE a.published_at IS NULL AND a.outcome <> 'interrupted'
        AND a.recorded_at < now() - ${olderThanMs} * interval '1 millisecond'
      ORDER BY a.id LIMIT ${limit}
      FOR UPDATE OF a SKIP LOCKED`)) as (AttemptRow & {
      id: bigint | string;
      delivery_id: string;
      window_id: string;
      rule_id: string;
      webhook_id: string;
    })[];
    if (rows.length === 0) return 0;
    const attempts = rows.map((r) => ({
      ...toAttemptRecord(r),
      id: BigInt(r.id),
      deliveryId: r.delivery_id,
      windowId: r.window_id,
      ruleId: r.rule_id,
      webhookId: r.webhook_id,
    }));
    await publish(attempts);
    await markAttemptsPublished(
      tx,
      attempts.map((a) => a.id),
    );
    return attempts.length;
  });
}
