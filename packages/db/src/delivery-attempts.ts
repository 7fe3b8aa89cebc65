import { sql, type Queryable } from "@databases/pg";
import { pgArray } from "./pg-array.js";
import type { TriggerValue } from "./delivery-types.js";

/** Finished attempts: recorded with the decisions they led to, and marked published. */

/** One attempt as `delivery_attempts` holds it. */
export interface AttemptRecord {
  readonly attempt: number;
  readonly trigger: TriggerValue;
  readonly startedAt: Date;
  readonly durationMs: number;
  /** An AttemptOutcome value (`interrupted` when the worker stopped during the attempt). */
  readonly outcome: string;
  readonly statusCode: number | null;
  readonly error: string | null;
  readonly responseExcerpt: string | null;
  /** Redacted. */
  readonly url: string;
}

/** `delivery_attempts` columns an AttemptRecord is read from (prefix them with the table's alias). */
export interface AttemptRow {
  attempt: number;
  trigger: TriggerValue;
  started_at: Date;
  duration_ms: number;
  outcome: string;
  status_code: number | null;
  error: string | null;
  response_excerpt: string | null;
  url: string;
}

export function toAttemptRecord(r: AttemptRow): AttemptRecord {
  return {
    attempt: r.attempt,
    trigger: r.trigger,
    startedAt: r.started_at,
    durationMs: r.duration_ms,
    outcome: r.outcome,
    statusCode: r.status_code,
    error: r.error,
    responseExcerpt: r.response_excerpt,
    url: r.url,
  };
}

export interface FinishedAttempt extends AttemptRecord {
  readonly deliveryId: string;
  /** What the policy decided: the delivery's next status, and when it is due if pending. */
  readonly nextStatus: "pending" | "succeeded" | "failed";
  readonly nextAttemptAt: Date | null;
  /**
   * Its message is on the attempts topic already (published before it is recorded, so the row is
   * written once); false leaves it to `publishStragglers`.
   */
  readonly published: boolean;
}

export interface RecordedAttempt {
  readonly deliveryId: string;
  readonly attempt: number;
  /**
   * False when the delivery was no longer this attempt's (its lease had expired and it was reclaimed):
   * the attempt is recorded, the delivery's state is left to the newer attempt.
   */
  readonly applied: boolean;
}

/**
 * Records finished attempts and applies their decisions, in one statement. The attempt is always
 * recorded — the endpoint may have seen it — even when it comes back after its lease expired (e.g. a
 * Postgres outage longer than the lease): an attempt already recorded as interrupted gets its real
 * outcome. Its decision applies if the delivery is still this attempt's: in flight under it, or put
 * back in the queue by the reaper (pending, no newer attempt started — this statement is what replaced
 * the interrupted record, so a repeat of the same attempt applies nothing). The attempt then counts in
 * its round again (the reaper had given it back). Once a newer attempt was claimed, that one settles the
 * delivery: the webhook is sent again, and this attempt is recorded but not applied.
 */
export async function recordAttempts(db: Queryable, attempts: readonly FinishedAttempt[]): Promise<RecordedAttempt[]> {
  if (attempts.length === 0) return [];
  const ids = pgArray(attempts.map((a) => a.deliveryId));
  const rows = (await db.query(sql`
    WITH v AS (
      SELECT * FROM unnest(
        ${ids}::uuid[], ${pgArray(attempts.map((a) => a.attempt))}::int[],
        ${pgArray(attempts.map((a) => a.trigger))}::text[], ${pgArray(attempts.map((a) => a.startedAt))}::timestamptz[],
        ${pgArray(attempts.map((a) => a.durationMs))}::float8[], ${pgArray(attempts.map((a) => a.outcome))}::text[],
        ${pgArray(attempts.map((a) => a.statusCode))}::int[], ${pgArray(attempts.map((a) => a.error))}::text[],
        ${pgArray(attempts.map((a) => a.responseExcerpt))}::text[], ${pgArray(attempts.map((a) => a.url))}::text[],
        ${pgArray(attempts.map((a) => a.nextStatus))}::text[], ${pgArray(attempts.map((a) => a.nextAttemptAt))}::timestamptz[],
        ${pgArray(attempts.map((a) => a.published))}::bool[])
      AS v(delivery_id, attempt, trigger, started_at, duration_ms, outcome, status_code, error, response_excerpt, url, next_status, next_at,
        published)
    ), ins AS (
      INSERT INTO delivery_attempts AS a
        (delivery_id, attempt, trigger, started_at, duration_ms, outcome, status_code, error, response_excerpt, url, published_at)
      SELECT delivery_id, attempt, trigger, started_at, duration_ms, outcome, status_code, error, response_excerpt, url,
        CASE WHEN published THEN now() END
      FROM v
      ON CONFLICT (delivery_id, attempt) DO UPDATE SET
        started_at = excluded.started_at, duration_ms = excluded.duration_ms, outcome = excluded.outcome,
        status_code = excluded.status_code, error = excluded.error, response_excerpt = excluded.response_excerpt,
        recorded_at = now(), published_at = excluded.published_at
        WHERE a.outcome = 'interrupted'
      RETURNING delivery_id, attempt
    ), upd AS (
      UPDATE deliveries d SET
        status = v.next_status, next_attempt_at = v.next_at, lease_until = NULL, claimed_by = NULL,
        -- An interrupted attempt is runhooks' fault: it never counts in the round, and the next attempt
        -- keeps its trigger (as the reaper does); a reaped one whose real outcome came counts again.
        round_attempts = CASE
          WHEN v.outcome = 'interrupted' THEN CASE WHEN d.status = 'in_flight' THEN greatest(d.round_attempts - 1, 0) ELSE d.round_attempts END
          WHEN d.status = 'pending' THEN d.round_attempts + 1
          ELSE d.round_attempts END,
        next_trigger = CASE WHEN v.outcome = 'interrupted' THEN d.attempt_trigger ELSE 'scheduled' END,
        last_outcome = v.outcome, last_status_code = v.status_code, updated_at = now(),
        completed_at = CASE WHEN v.next_status IN ('succeeded', 'failed') THEN now() END
      FROM v
      -- d.id = ANY(ids) keeps the lookup on the primary key whatever the table's statistics say; the
      -- status test is a CASE, not an OR, which the planner would answer by reading the partial status
      -- indexes whole.
      WHERE d.id = ANY(${ids}::uuid[]) AND d.id = v.delivery_id AND d.attempts = v.attempt
        AND CASE d.status
          WHEN 'in_flight' THEN true
          WHEN 'pending' THEN EXISTS (SELECT 1 FROM ins WHERE ins.delivery_id = v.delivery_id AND ins.attempt = v.attempt)
          ELSE false
        END
      RETURNING d.id
    )
    SELECT ins.delivery_id, ins.attempt, EXISTS (SELECT 1 FROM upd WHERE upd.id = ins.delivery_id) AS applied
    FROM ins`)) as { delivery_id: string; attempt: number; applied: boolean }[];
  return rows.map((r) => ({ deliveryId: r.delivery_id, attempt: r.attempt, applied: r.applied }));
}

export async function markAttemptsPublished(db: Queryable, ids: readonly bigint[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query(sql`
    UPDATE delivery_attempts SET published_at = now()
    WHERE id = ANY(${ids.map(String)}::bigint[]) AND published_at IS NULL`);
}
