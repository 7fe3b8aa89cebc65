import { sql, type Queryable, type SQLQuery } from "@databases/pg";
import { pgArray } from "./pg-array.js";

/**
 * The delivery queue (migration 003; DESIGN.md §5). Windows are stored once with their webhook body;
 * each becomes one delivery per webhook. Workers claim due deliveries with FOR UPDATE SKIP LOCKED and
 * hold them under a lease; every attempt becomes a `delivery_attempts` row. Everything here is batched:
 * one statement per batch, whatever its size.
 */

export type DeliveryStatusValue = "pending" | "in_flight" | "succeeded" | "failed";
export type TriggerValue = "scheduled" | "manual";

export interface NewWindow {
  readonly windowId: string;
  readonly tenantId: string;
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly startTime: string;
  readonly endTime: string;
  readonly runCount: number;
  readonly webhookCount: number;
  /**
   * The webhook body (UTF-8 bytes, sent to Postgres as they are: no text decoding and re-encoding);
   * null when the window has no webhook to go to.
   */
  readonly payload: Buffer | null;
}

/** What every delivery carries, new or claimed. */
export interface DeliveryTarget {
  readonly id: string;
  readonly windowId: string;
  readonly webhookId: string;
  readonly tenantId: string;
  readonly ruleId: string;
  readonly ruleVersion: number;
  /** Redacted. */
  readonly url: string;
  readonly origin: string;
  readonly traceId: string;
}

export interface NewDelivery extends DeliveryTarget {
  /**
   * Created already claimed (in flight, attempt 1, under a lease) by the process storing it, which
   * sends it at once: no claim round trip for a first attempt. Otherwise created pending.
   */
  readonly claimed: boolean;
}

export interface StoreWindowsResult {
  /** Windows new to the store; the others had been stored before (a replayed window). */
  readonly windowsStored: number;
  readonly deliveriesCreated: number;
  /**
   * Ids of the deliveries that existed already (a replayed window), not created: usually none, so
   * nothing per delivery comes back from the statement.
   */
  readonly existing: readonly string[];
}

/** The claim of deliveries stored claimed. */
export interface StoreClaim {
  readonly leaseMs: number;
  readonly claimedBy: string;
}

const EMPTY = Buffer.alloc(0);

/** Stores windows and their deliveries in one statement; what exists already is left as it is. */
export async function storeWindows(
  db: Queryable,
  windows: readonly NewWindow[],
  deliveries: readonly NewDelivery[],
  claim: StoreClaim = { leaseMs: 60_000, claimedBy: "" },
): Promise<StoreWindowsResult> {
  if (windows.length === 0) return { windowsStored: 0, deliveriesCreated: 0, existing: [] };
  // The bodies travel as one bytea, cut back into rows by their byte ranges and checked as UTF-8 by
  // convert_from: no per-window parameters (a statement of a thousand windows would otherwise be built,
  // formatted and bound parameter by parameter).
  const bodies = windows.map((w) => w.payload ?? EMPTY);
  const blob = Buffer.concat(bodies);
  const starts: number[] = [];
  let at = 1; // substring() counts from 1
  for (const body of bodies) {
    starts.push(at);
    at += body.length;
  }
  const rows = (await db.query(sql`
    WITH wv AS (
      SELECT * FROM unnest(
        ${pgArray(windows.map((w) => w.windowId))}::uuid[], ${pgArray(windows.map((w) => w.tenantId))}::uuid[],
        ${pgArray(windows.map((w) => w.ruleId))}::uuid[], ${pgArray(windows.map((w) => w.ruleVersion))}::int[],
        ${pgArray(windows.map((w) => w.startTime))}::timestamptz[], ${pgArray(windows.map((w) => w.endTime))}::timestamptz[],
        ${pgArray(windows.map((w) => w.runCount))}::int[], ${pgArray(windows.map((w) => w.webhookCount))}::int[],
        ${pgArray(starts)}::int[], ${pgArray(bodies.map((b, i) => (windows[i]!.payload === null ? null : b.length)))}::int[])
      AS v(window_id, tenant_id, rule_id, rule_version, start_time, end_time, run_count, webhook_count, body_start, body_length)
    ), w AS (
      INSERT INTO delivery_windows
        (window_id, tenant_id, rule_id, rule_version, start_time, end_time, run_count, webhook_count, payload)
      SELECT window_id, tenant_id, rule_id, rule_version, start_time, end_time, run_count, webhook_count,
        CASE WHEN body_length IS NOT NULL THEN convert_from(substring(${blob}::bytea FROM body_start FOR body_length), 'UTF8') END
      FROM wv
      ON CONFLICT (window_id) DO NOTHING
      RETURNING 1
    ), v AS (
      SELECT * FROM unnest(
        ${pgArray(deliveries.map((d) => d.id))}::uuid[], ${pgArray(deliveries.map((d) => d.windowId))}::uuid[],
        ${pgArray(deliveries.map((d) => d.webhookId))}::uuid[], ${pgArray(deliveries.map((d) => d.tenantId))}::uuid[],
        ${pgArray(deliveries.map((d) => d.ruleId))}::uuid[], ${pgArray(deliveries.map((d) => d.ruleVersion))}::int[],
        ${pgArray(deliveries.map((d) => d.url))}::text[], ${pgArray(deliveries.map((d) => d.origin))}::text[],
        ${pgArray(deliveries.map((d) => d.traceId))}::text[], ${pgArray(deliveries.map((d) => d.claimed))}::bool[])
      AS v(id, window_id, webhook_id, tenant_id, rule_id, rule_version, url, origin, trace_id, claimed)
    ), d AS (
      INSERT INTO deliveries
        (id, window_id, webhook_id, tenant_id, rule_id, rule_version, url, origin, trace_id, status, attempts,
         round_attempts, attempt_trigger, claimed_at, lease_until, claimed_by, next_attempt_at)
      SELECT id, window_id, webhook_id, tenant_id, rule_id, rule_version, url, origin, trace_id,
        CASE WHEN claimed THEN 'in_flight' ELSE 'pending' END, CASE WHEN claimed THEN 1 ELSE 0 END,
        CASE WHEN claimed THEN 1 ELSE 0 END, CASE WHEN claimed THEN 'scheduled' END, CASE WHEN claimed THEN now() END,
        CASE WHEN claimed THEN now() + ${claim.leaseMs} * interval '1 millisecond' END,
        CASE WHEN claimed THEN ${claim.claimedBy} END, CASE WHEN claimed THEN NULL ELSE now() END
      FROM v
      ON CONFLICT DO NOTHING
      RETURNING id
    )
    SELECT (SELECT count(*) FROM w)::int AS windows, (SELECT count(*) FROM d)::int AS created,
      (SELECT coalesce(array_agg(v.id::text), '{}') FROM v WHERE NOT EXISTS (SELECT 1 FROM d WHERE d.id = v.id)) AS existing`)) as {
    windows: number;
    created: number;
    existing: string[];
  }[];
  return { windowsStored: rows[0]?.windows ?? 0, deliveriesCreated: rows[0]?.created ?? 0, existing: rows[0]?.existing ?? [] };
}

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
  const claimed = rows.filter((r) => r.id !== null).map((r) => ({
    id: r.id!,
    windowId: r.window_id,
    webhookId: r.webhook_id,
    tenantId: r.tenant_id,
    ruleId: r.rule_id,
    ruleVersion: r.rule_version,
    url: r.url,
    origin: r.origin,
    traceId: r.trace_id,
    attempt: r.attempts,
    roundAttempt: r.round_attempts,
    trigger: r.attempt_trigger,
  }));
  return { claimed, lastOrigin: head?.last_origin ?? undefined, originsCapped };
}

/** The stored webhook bodies of these windows (windows without one are absent). */
export async function windowPayloads(db: Queryable, windowIds: readonly string[]): Promise<Map<string, string>> {
  if (windowIds.length === 0) return new Map();
  const rows = (await db.query(sql`
    SELECT window_id, payload FROM delivery_windows
    WHERE window_id = ANY(${[...windowIds]}::uuid[]) AND payload IS NOT NULL`)) as { window_id: string; payload: string }[];
  return new Map(rows.map((r) => [r.window_id, r.payload]));
}

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
      -- The rows are found by primary key: \`d.id = ANY(ids)\` is an index condition the planner costs by
      -- the array's length, where the join alone was costed from the table's last statistics — a young
      -- table (bench:delivery's) got a hash join over a scan of every delivery. The status test is a CASE,
      -- not an OR of two status tests: the planner matched the OR to the partial indexes on in-flight and
      -- pending deliveries and read them whole (a bitmap OR) — and those keep an entry for every delivery
      -- that ever was in flight until vacuum removes it (~19,000 read per statement in bench:delivery).
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

/**
 * Gives back claimed deliveries whose attempt was never started (a worker stopping): due now, the
 * attempt number and the round's count as they were before the claim.
 */
export async function releaseClaims(db: Queryable, claims: readonly { id: string; attempt: number }[]): Promise<number> {
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
    await markAttemptsPublished(tx, attempts.map((a) => a.id));
    return attempts.length;
  });
}
