import { sql, type Queryable } from "@databases/pg";

/** Most deliveries one recovery queues again; the answer says whether more remain. */
export const MAX_RECOVER_PER_CALL = 1000;

export interface RecoverFilter {
  /** Deliveries created at or after this time… */
  readonly since: Date;
  /** …and before this one (default: now). */
  readonly until?: Date | undefined;
  readonly ruleId?: string | undefined;
  readonly webhookId?: string | undefined;
  /** At most this many (at most MAX_RECOVER_PER_CALL). */
  readonly limit?: number | undefined;
}

export interface RecoverResult {
  /** Deliveries queued again, oldest first. */
  readonly queued: number;
  /** More failed or skipped deliveries match: call again (the queued ones no longer match). */
  readonly more: boolean;
}

/**
 * Queues a tenant's failed and skipped deliveries created in [since, until) again, oldest first, at
 * most `limit`: a manual round due now (the retry policy applies afresh). Succeeded, pending, in-flight
 * and cancelled deliveries are left as they are, and so are those whose window body retention removed
 * (they could only fail).
 */
export async function recoverDeliveries(db: Queryable, tenantId: string, f: RecoverFilter): Promise<RecoverResult> {
  const limit = Math.min(f.limit ?? MAX_RECOVER_PER_CALL, MAX_RECOVER_PER_CALL);
  const conditions = [
    sql`tenant_id = ${tenantId}`,
    sql`status IN ('failed', 'skipped')`,
    sql`created_at >= ${f.since}`,
    sql`created_at < ${f.until ?? new Date()}`,
    sql`EXISTS (SELECT 1 FROM delivery_windows w WHERE w.window_id = deliveries.window_id AND w.payload IS NOT NULL)`,
  ];
  if (f.ruleId !== undefined) conditions.push(sql`rule_id = ${f.ruleId}`);
  if (f.webhookId !== undefined) conditions.push(sql`webhook_id = ${f.webhookId}`);
  const rows = (await db.query(sql`
    WITH pick AS (
      SELECT id, created_at FROM deliveries WHERE ${sql.join(conditions, " AND ")}
      ORDER BY created_at, id LIMIT ${limit + 1} FOR UPDATE SKIP LOCKED
    ), chosen AS (
      SELECT id FROM pick ORDER BY created_at, id LIMIT ${limit}
    ), queued AS (
      UPDATE deliveries d SET status = 'pending', next_attempt_at = now(), next_trigger = 'manual', round_attempts = 0,
        completed_at = NULL, updated_at = now()
      FROM chosen WHERE d.id = chosen.id
      RETURNING d.id
    )
    SELECT (SELECT count(*) FROM queued)::int AS queued, (SELECT count(*) FROM pick)::int AS picked`)) as {
    queued: number;
    picked: number;
  }[];
  return { queued: rows[0]?.queued ?? 0, more: (rows[0]?.picked ?? 0) > limit };
}
