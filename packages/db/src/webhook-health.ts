import { sql, type Queryable, type SQLQuery } from "@databases/pg";
import { pgArray } from "./pg-array.js";

/**
 * Each webhook's health (migration 011; DESIGN.md §5): deliveries failed in a row, last success, state.
 * The delivery service locks the rows of a batch's webhooks, decides their next state (a pure function
 * of its own) and saves it in the same transaction; the API reads it and enables a disabled webhook.
 */

export type WebhookStateValue = "healthy" | "failing" | "disabled";

export interface WebhookHealthRecord {
  readonly ruleId: string;
  readonly webhookId: string;
  readonly tenantId: string;
  readonly state: WebhookStateValue;
  readonly consecutiveFailures: number;
  readonly failingSince: Date | null;
  readonly lastSuccessAt: Date | null;
  readonly lastFailureAt: Date | null;
  readonly disabledAt: Date | null;
}

interface HealthRow {
  rule_id: string;
  webhook_id: string;
  tenant_id: string;
  state: WebhookStateValue;
  consecutive_failures: number;
  failing_since: Date | null;
  last_success_at: Date | null;
  last_failure_at: Date | null;
  disabled_at: Date | null;
}

const COLUMNS = sql`rule_id, webhook_id, tenant_id, state, consecutive_failures, failing_since, last_success_at,
  last_failure_at, disabled_at`;

function toRecord(r: HealthRow): WebhookHealthRecord {
  return {
    ruleId: r.rule_id,
    webhookId: r.webhook_id,
    tenantId: r.tenant_id,
    state: r.state,
    consecutiveFailures: r.consecutive_failures,
    failingSince: r.failing_since,
    lastSuccessAt: r.last_success_at,
    lastFailureAt: r.last_failure_at,
    disabledAt: r.disabled_at,
  };
}

export interface WebhookKey {
  readonly ruleId: string;
  readonly webhookId: string;
}

/**
 * The health rows of these webhooks, locked until the transaction ends (`FOR UPDATE`, in key order so
 * two processes never deadlock); a webhook without a row has none yet (healthy).
 */
export async function lockWebhookHealth(tx: Queryable, keys: readonly WebhookKey[]): Promise<WebhookHealthRecord[]> {
  return readHealth(tx, keys, sql`FOR UPDATE`);
}

/** The health rows of these webhooks, unlocked. */
export async function webhookHealthOf(db: Queryable, keys: readonly WebhookKey[]): Promise<WebhookHealthRecord[]> {
  return readHealth(db, keys, sql``);
}

async function readHealth(db: Queryable, keys: readonly WebhookKey[], lock: SQLQuery): Promise<WebhookHealthRecord[]> {
  if (keys.length === 0) return [];
  const rows = (await db.query(sql`
    SELECT ${COLUMNS} FROM webhook_health h
    WHERE (rule_id, webhook_id) IN (
      SELECT * FROM unnest(${pgArray(keys.map((k) => k.ruleId))}::uuid[], ${pgArray(keys.map((k) => k.webhookId))}::uuid[]))
    ORDER BY rule_id, webhook_id
    ${lock}`)) as HealthRow[];
  return rows.map(toRecord);
}

/** Writes these health rows (inserted or replaced), in one statement. */
export async function saveWebhookHealth(tx: Queryable, records: readonly WebhookHealthRecord[]): Promise<void> {
  if (records.length === 0) return;
  const col = (f: (r: WebhookHealthRecord) => string | number | Date | null) => pgArray(records.map(f));
  await tx.query(sql`
    INSERT INTO webhook_health AS h (rule_id, webhook_id, tenant_id, state, consecutive_failures, failing_since,
      last_success_at, last_failure_at, disabled_at)
    SELECT * FROM unnest(${col((r) => r.ruleId)}::uuid[], ${col((r) => r.webhookId)}::uuid[], ${col((r) => r.tenantId)}::uuid[],
      ${col((r) => r.state)}::text[], ${col((r) => r.consecutiveFailures)}::int[], ${col((r) => r.failingSince)}::timestamptz[],
      ${col((r) => r.lastSuccessAt)}::timestamptz[], ${col((r) => r.lastFailureAt)}::timestamptz[],
      ${col((r) => r.disabledAt)}::timestamptz[])
    ON CONFLICT (rule_id, webhook_id) DO UPDATE SET
      state = excluded.state, consecutive_failures = excluded.consecutive_failures, failing_since = excluded.failing_since,
      last_success_at = excluded.last_success_at, last_failure_at = excluded.last_failure_at,
      disabled_at = excluded.disabled_at, updated_at = now()`);
}

/** The health of a rule's webhooks that have a row (the others are healthy, with nothing finished yet). */
export async function webhookHealthOfRule(
  db: Queryable,
  tenantId: string,
  ruleId: string,
): Promise<WebhookHealthRecord[]> {
  const rows = (await db.query(sql`
    SELECT ${COLUMNS} FROM webhook_health WHERE tenant_id = ${tenantId} AND rule_id = ${ruleId}`)) as HealthRow[];
  return rows.map(toRecord);
}

/** Which of these webhooks are disabled, as `ruleId/webhookId`. */
export async function disabledWebhooks(db: Queryable, keys: readonly WebhookKey[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = (await db.query(sql`
    SELECT rule_id, webhook_id FROM webhook_health
    WHERE state = 'disabled' AND (rule_id, webhook_id) IN (
      SELECT * FROM unnest(${pgArray(keys.map((k) => k.ruleId))}::uuid[], ${pgArray(keys.map((k) => k.webhookId))}::uuid[]))`)) as {
    rule_id: string;
    webhook_id: string;
  }[];
  return new Set(rows.map((r) => `${r.rule_id}/${r.webhook_id}`));
}

/**
 * Enables a webhook again: healthy, its count of failures in a row back to 0. What it missed while
 * disabled stays `skipped` until recovered. Returns the previous state (undefined: it had no row, so
 * it was healthy already).
 */
export async function enableWebhook(
  db: Queryable,
  tenantId: string,
  ruleId: string,
  webhookId: string,
): Promise<WebhookStateValue | undefined> {
  const rows = (await db.query(sql`
    WITH before AS (
      SELECT state FROM webhook_health WHERE tenant_id = ${tenantId} AND rule_id = ${ruleId} AND webhook_id = ${webhookId}
      FOR UPDATE
    ), upd AS (
      UPDATE webhook_health SET state = 'healthy', consecutive_failures = 0, failing_since = NULL, disabled_at = NULL,
        updated_at = now()
      WHERE tenant_id = ${tenantId} AND rule_id = ${ruleId} AND webhook_id = ${webhookId}
      RETURNING 1
    )
    SELECT state FROM before`)) as { state: WebhookStateValue }[];
  return rows[0]?.state;
}
