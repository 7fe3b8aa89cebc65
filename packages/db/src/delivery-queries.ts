import { sql, type Queryable } from "@databases/pg";
import { toAttemptRecord, type AttemptRecord, type AttemptRow } from "./delivery-attempts.js";
import type { DeliveryStatusValue } from "./delivery-types.js";

/**
 * Reading deliveries and asking for them again, for the API. Every query is scoped to a tenant; what
 * it returns holds no secret (URLs are stored redacted, error texts and excerpts scrubbed).
 */

export interface DeliveryRecord {
  readonly id: string;
  readonly windowId: string;
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly webhookId: string;
  readonly url: string;
  readonly status: DeliveryStatusValue;
  readonly attempts: number;
  readonly nextAttemptAt: Date | null;
  readonly lastOutcome: string | null;
  readonly lastStatusCode: number | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly completedAt: Date | null;
}

interface DeliveryRow {
  id: string;
  window_id: string;
  rule_id: string;
  rule_version: number;
  webhook_id: string;
  url: string;
  status: DeliveryStatusValue;
  attempts: number;
  next_attempt_at: Date | null;
  last_outcome: string | null;
  last_status_code: number | null;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
}

const DELIVERY_COLUMNS = sql`id, window_id, rule_id, rule_version, webhook_id, url, status, attempts, next_attempt_at,
  last_outcome, last_status_code, created_at, updated_at, completed_at`;

function toDelivery(r: DeliveryRow): DeliveryRecord {
  return {
    id: r.id,
    windowId: r.window_id,
    ruleId: r.rule_id,
    ruleVersion: r.rule_version,
    webhookId: r.webhook_id,
    url: r.url,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastOutcome: r.last_outcome,
    lastStatusCode: r.last_status_code,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    completedAt: r.completed_at,
  };
}

export interface DeliveryFilter {
  readonly ruleId?: string | undefined;
  readonly status?: DeliveryStatusValue | undefined;
  /** Deliveries created at or after this time. */
  readonly since?: Date | undefined;
  /** Deliveries created before this time (for paging back). */
  readonly before?: Date | undefined;
  readonly limit: number;
}

/** A tenant's deliveries, newest first. */
export async function listDeliveries(db: Queryable, tenantId: string, f: DeliveryFilter): Promise<DeliveryRecord[]> {
  const conditions = [sql`tenant_id = ${tenantId}`];
  if (f.ruleId !== undefined) conditions.push(sql`rule_id = ${f.ruleId}`);
  if (f.status !== undefined) conditions.push(sql`status = ${f.status}`);
  if (f.since !== undefined) conditions.push(sql`created_at >= ${f.since}`);
  if (f.before !== undefined) conditions.push(sql`created_at < ${f.before}`);
  const rows = (await db.query(sql`
    SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE ${sql.join(conditions, " AND ")}
    ORDER BY created_at DESC, id LIMIT ${f.limit}`)) as DeliveryRow[];
  return rows.map(toDelivery);
}

/** One delivery of the tenant with its attempts, first attempt first; undefined if there is none. */
export async function getDelivery(
  db: Queryable,
  tenantId: string,
  deliveryId: string,
): Promise<{ delivery: DeliveryRecord; attempts: AttemptRecord[] } | undefined> {
  const rows = (await db.query(sql`
    SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE id = ${deliveryId} AND tenant_id = ${tenantId}`)) as DeliveryRow[];
  if (!rows[0]) return undefined;
  const attempts = (await db.query(sql`
    SELECT attempt, trigger, started_at, duration_ms, outcome, status_code, error, response_excerpt, url
    FROM delivery_attempts WHERE delivery_id = ${deliveryId} ORDER BY attempt`)) as AttemptRow[];
  return { delivery: toDelivery(rows[0]), attempts: attempts.map(toAttemptRecord) };
}

export type RedeliverResult =
  | { readonly ok: true; readonly delivery: DeliveryRecord }
  | { readonly ok: false; readonly reason: "not_found" }
  /** Pending or in flight: it will be attempted anyway. */
  | { readonly ok: false; readonly reason: "in_progress"; readonly delivery: DeliveryRecord }
  /** Its window's body is past retention: there is nothing to send again. */
  | { readonly ok: false; readonly reason: "body_expired"; readonly delivery: DeliveryRecord }
  /** Its webhook was removed from the rule (or the rule deleted): there is nowhere to send it. */
  | { readonly ok: false; readonly reason: "cancelled"; readonly delivery: DeliveryRecord };

/**
 * Queues a finished delivery (failed, succeeded, or skipped while its webhook was disabled) for one more
 * round, due now: its next attempt is recorded with trigger `manual`, and the retry policy applies afresh.
 */
export async function redeliver(db: Queryable, tenantId: string, deliveryId: string): Promise<RedeliverResult> {
  const rows = (await db.query(sql`
    UPDATE deliveries SET status = 'pending', next_attempt_at = now(), next_trigger = 'manual', round_attempts = 0,
      completed_at = NULL, updated_at = now()
    WHERE id = ${deliveryId} AND tenant_id = ${tenantId} AND status IN ('succeeded', 'failed', 'skipped')
      AND EXISTS (SELECT 1 FROM delivery_windows w WHERE w.window_id = deliveries.window_id AND w.payload IS NOT NULL)
    RETURNING ${DELIVERY_COLUMNS}`)) as DeliveryRow[];
  if (rows[0]) return { ok: true, delivery: toDelivery(rows[0]) };
  const existing = (await db.query(sql`
    SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE id = ${deliveryId} AND tenant_id = ${tenantId}`)) as DeliveryRow[];
  if (!existing[0]) return { ok: false, reason: "not_found" };
  const delivery = toDelivery(existing[0]);
  // Finished, yet not queued: retention dropped its window's body.
  if (delivery.status === "succeeded" || delivery.status === "failed" || delivery.status === "skipped")
    return { ok: false, reason: "body_expired", delivery };
  return delivery.status === "cancelled"
    ? { ok: false, reason: "cancelled", delivery }
    : { ok: false, reason: "in_progress", delivery };
}

export interface ReplayResult {
  /** Windows of the rule that started in [from, to). */
  readonly windows: number;
  /** Deliveries queued again. */
  readonly queued: number;
  /** Deliveries left alone because they are pending or in flight already. */
  readonly inProgress: number;
}

/**
 * Delivers a rule's windows that started in [from, to) again: every finished delivery of them is
 * queued for a manual round (pending and in-flight ones are left to finish).
 */
export async function replayRule(
  db: Queryable,
  tenantId: string,
  ruleId: string,
  from: Date,
  to: Date,
): Promise<ReplayResult> {
  const rows = (await db.query(sql`
    WITH w AS (
      SELECT window_id FROM delivery_windows
      WHERE tenant_id = ${tenantId} AND rule_id = ${ruleId} AND start_time >= ${from} AND start_time < ${to}
    ), queued AS (
      UPDATE deliveries d SET status = 'pending', next_attempt_at = now(), next_trigger = 'manual', round_attempts = 0,
        completed_at = NULL, updated_at = now()
      FROM w WHERE d.window_id = w.window_id AND d.status IN ('succeeded', 'failed')
      RETURNING d.id
    )
    SELECT (SELECT count(*) FROM w)::int AS windows, (SELECT count(*) FROM queued)::int AS queued,
      (SELECT count(*) FROM deliveries d JOIN w ON d.window_id = w.window_id WHERE d.status IN ('pending', 'in_flight'))::int AS in_progress`)) as {
    windows: number;
    queued: number;
    in_progress: number;
  }[];
  const r = rows[0];
  return { windows: r?.windows ?? 0, queued: r?.queued ?? 0, inProgress: r?.in_progress ?? 0 };
}
