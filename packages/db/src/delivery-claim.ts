import { sql, type Queryable } from "@databases/pg";
import { redactUrl } from "@runhooks/contracts";
import type { DeliveryTarget, TriggerValue } from "./delivery-types.js";

/** Claiming due deliveries: fairly across tenants and origins, under a lease. */

export interface ClaimOptions {
  /** Most deliveries to claim. */
  readonly limit: number;
  readonly leaseMs: number;
  readonly claimedBy: string;
  /**
   * Per-origin room: the most deliveries of each listed origin to claim now (origins with none left
   * are skipped entirely, so a saturated origin never crowds out others); `defaultRoom` for the rest.
   */
  readonly originRoom: ReadonlyMap<string, number>;
  readonly defaultRoom: number;
  /** Start from origins after this one (the `lastOrigin` of a claim whose origins were capped). */
  readonly afterOrigin?: string | undefined;
  /**
   * Per-tenant room: the most deliveries of each listed tenant to claim now (tenants with none left
   * are skipped); `defaultTenantRoom` for the rest. Absent: no tenant limit.
   */
  readonly tenantRoom?: ReadonlyMap<string, number>;
  readonly defaultTenantRoom?: number;
}

export interface ClaimResult {
  readonly claimed: ClaimedDelivery[];
  /** The last origin this claim looked at (origins are taken in order). */
  readonly lastOrigin: string | undefined;
  /** More origins had due deliveries than one claim looks at: the next claim goes on after `lastOrigin`. */
  readonly originsCapped: boolean;
}

export interface ClaimedDelivery extends DeliveryTarget {
  /** This attempt's number (1 for the first attempt of the delivery). */
  readonly attempt: number;
  /** Its number within the round: what the retry policy counts. */
  readonly roundAttempt: number;
  readonly trigger: TriggerValue;
}

/**
 * Claims due deliveries fairly across tenants and origins: each origin with due deliveries and room gets its
 * oldest due ones, at most its room and at most an equal share of `limit`; then they are taken round
 * robin (every tenant's first, then every tenant's second…, each tenant's taken round robin over its
 * origins), each tenant at most its room, up to `limit`. So an origin or a tenant with a large
 * backlog never keeps another origin's single due delivery waiting. The origins are found by a skip
 * scan of `deliveries_pending_origin_idx` (one index probe per origin), at most `limit` per claim, from
 * `afterOrigin` on: the caller passes the last origin of a claim that hit that cap, so the next claim
 * goes on from there (round robin over claims too). FOR UPDATE SKIP LOCKED: concurrent workers never
 * claim the same one. A claimed delivery is `in_flight` under a lease; its attempt number is taken
 * here, before anything is sent.
 */
export async function claimDeliveries(db: Queryable, o: ClaimOptions): Promise<ClaimResult> {
  if (o.limit <= 0) return { claimed: [], lastOrigin: undefined, originsCapped: false };
  const full = [...o.originRoom].filter(([, room]) => room <= 0).map(([origin]) => origin);
  const partial = [...o.originRoom].filter(([, room]) => room > 0);
  const tenantRoom = [...(o.tenantRoom ?? [])];
  const fullTenants = tenantRoom.filter(([, room]) => room <= 0).map(([tenant]) => tenant);
  const tenantsWithRoom = tenantRoom.filter(([, room]) => room > 0);
  const rows = (await db.query(sql`
    WITH RECURSIVE o AS (
      -- Each step is one index probe: the next origin with pending deliveries, due or not (filtering
      -- here would walk a big backlog entry by entry).
      (SELECT origin FROM deliveries WHERE status = 'pending' AND origin > ${o.afterOrigin ?? ""} ORDER BY origin LIMIT 1)
      UNION ALL
      SELECT (SELECT d.origin FROM deliveries d WHERE d.status = 'pending' AND d.origin > o.origin ORDER BY d.origin LIMIT 1)
      FROM o WHERE o.origin IS NOT NULL
    ), due AS (
      SELECT origin FROM o
      WHERE origin IS NOT NULL AND origin <> ALL(${full}::text[])
        AND EXISTS (SELECT 1 FROM deliveries d WHERE d.status = 'pending' AND d.origin = o.origin AND d.next_attempt_at <= now())
      LIMIT ${o.limit}
    ), share AS (
      SELECT ceil(${o.limit}::numeric / greatest(count(*), 1))::int AS n, max(origin) AS last_origin, count(*)::int AS origins FROM due
    ), room AS (
      SELECT * FROM unnest(${partial.map(([origin]) => origin)}::text[], ${partial.map(([, room]) => room)}::int[]) AS r(origin, room)
    ), troom AS (
      SELECT * FROM unnest(${tenantsWithRoom.map(([t]) => t)}::uuid[], ${tenantsWithRoom.map(([, r]) => r)}::int[]) AS t(tenant_id, room)
    ), cand AS (
      SELECT c.id, c.origin, c.tenant_id, c.next_attempt_at FROM due
      CROSS JOIN share
      LEFT JOIN room ON room.origin = due.origin
      CROSS JOIN LATERAL (
        SELECT d.id, d.origin, d.tenant_id, d.next_attempt_at FROM deliveries d
        WHERE d.status = 'pending' AND d.origin = due.origin AND d.next_attempt_at <= now()
          AND d.tenant_id <> ALL(${fullTenants}::uuid[])
        ORDER BY d.next_attempt_at
        LIMIT least(coalesce(room.room, ${o.defaultRoom}), share.n)
        FOR UPDATE OF d SKIP LOCKED
      ) c
    ), chosen AS (
      -- Round robin over tenants (each tenant's first, then every tenant's second…), each within its
      -- room, and within a tenant over its origins.
      SELECT id FROM (
        SELECT id, tenant_id, rn, next_attempt_at,
          row_number() OVER (PARTITION BY tenant_id ORDER BY rn, next_attempt_at) AS trn
        FROM (SELECT id, tenant_id, next_attempt_at, row_number() OVER (PARTITION BY origin ORDER BY next_attempt_at) AS rn FROM cand) r
      ) ranked
      LEFT JOIN troom USING (tenant_id)
      WHERE ranked.trn <= coalesce(troom.room, ${o.defaultTenantRoom ?? o.limit})
      ORDER BY trn, rn, next_attempt_at
      LIMIT ${o.limit}
    ), claimed AS (
      UPDATE deliveries d SET
        status = 'in_flight', attempts = d.attempts + 1, round_attempts = d.round_attempts + 1,
        attempt_trigger = d.next_trigger, next_trigger = 'scheduled', next_attempt_at = NULL,
        claimed_at = now(), lease_until = now() + ${o.leaseMs} * interval '1 millisecond', claimed_by = ${o.claimedBy},
        updated_at = now()
      FROM chosen WHERE d.id = chosen.id
      RETURNING d.id, d.window_id, d.webhook_id, d.tenant_id, d.rule_id, d.rule_version, d.url, d.origin, d.trace_id,
        d.attempts, d.round_attempts, d.attempt_trigger
    )
    SELECT claimed.*, share.last_origin, share.origins FROM share LEFT JOIN claimed ON true`)) as {
    id: string | null;
    window_id: string;
    webhook_id: string;
    tenant_id: string;
    rule_id: string;
    rule_version: number;
    url: string;
    origin: string;
    trace_id: string;
    attempts: number;
    round_attempts: number;
    attempt_trigger: TriggerValue;
    last_origin: string | null;
    origins: number;
  }[];
  const head = rows[0];
  const originsCapped = (head?.origins ?? 0) >= o.limit;
  const claimed = rows
    .filter((r) => r.id !== null)
    .map((r) => ({
      id: r.id!,
      windowId: r.window_id,
      webhookId: r.webhook_id,
      tenantId: r.tenant_id,
      ruleId: r.rule_id,
      ruleVersion: r.rule_version,
      // Redacted again: a stored URL is shown, logged and published with every token redactUrl knows.
      url: redactUrl(r.url),
      origin: r.origin,
      traceId: r.trace_id,
      attempt: r.attempts,
      roundAttempt: r.round_attempts,
      trigger: r.attempt_trigger,
    }));
  return { claimed, lastOrigin: head?.last_origin ?? undefined, originsCapped };
}
