import { sql, type Queryable } from "@databases/pg";
import { pgArray } from "./pg-array.js";
import type { DeliveryTarget } from "./delivery-types.js";

/** Storing windows with their deliveries, and reading their bodies back. */

export interface NewWindow {
  readonly windowId: string;
  readonly tenantId: string;
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly startTime: string;
  readonly endTime: string;
  readonly runCount: number;
  /** 0-based index of this chunk among its window's chunks of at most `max_runs` runs, and how many there are. */
  readonly chunkIndex: number;
  readonly chunkCount: number;
  readonly webhookCount: number;
  /**
   * The webhook body (UTF-8 bytes, sent to Postgres as they are: no text decoding and re-encoding);
   * null when the window has no webhook to go to.
   */
  readonly payload: Buffer | null;
  /** The backfill that made it (DESIGN.md §4 "Backfills"); absent for a live window. */
  readonly backfillId?: string | undefined;
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
  /** Of those created, how many were skipped: their webhook is disabled (status `skipped`, never sent). */
  readonly skipped?: number;
  /**
   * Ids of the deliveries that existed already (a replayed window) or were created skipped, not created
   * to be sent: usually none, so nothing per delivery comes back from the statement.
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
  if (windows.length === 0) return { windowsStored: 0, deliveriesCreated: 0, skipped: 0, existing: [] };
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
        ${pgArray(windows.map((w) => w.runCount))}::int[], ${pgArray(windows.map((w) => w.chunkIndex))}::int[],
        ${pgArray(windows.map((w) => w.chunkCount))}::int[], ${pgArray(windows.map((w) => w.webhookCount))}::int[],
        ${pgArray(starts)}::int[], ${pgArray(bodies.map((b, i) => (windows[i]!.payload === null ? null : b.length)))}::int[],
        ${pgArray(windows.map((w) => w.backfillId ?? null))}::uuid[])
      AS v(window_id, tenant_id, rule_id, rule_version, start_time, end_time, run_count, chunk_index, chunk_count, webhook_count,
        body_start, body_length, backfill_id)
    ), w AS (
      INSERT INTO delivery_windows
        (window_id, tenant_id, rule_id, rule_version, start_time, end_time, run_count, chunk_index, chunk_count, webhook_count, payload,
         backfill_id)
      SELECT window_id, tenant_id, rule_id, rule_version, start_time, end_time, run_count, chunk_index, chunk_count, webhook_count,
        CASE WHEN body_length IS NOT NULL THEN convert_from(substring(${blob}::bytea FROM body_start FOR body_length), 'UTF8') END,
        backfill_id
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
         round_attempts, attempt_trigger, claimed_at, lease_until, claimed_by, next_attempt_at, last_outcome, completed_at)
      SELECT id, window_id, webhook_id, tenant_id, rule_id, rule_version, url, origin, trace_id,
        CASE WHEN skip THEN 'skipped' WHEN claimed THEN 'in_flight' ELSE 'pending' END, CASE WHEN claimed THEN 1 ELSE 0 END,
        CASE WHEN claimed THEN 1 ELSE 0 END, CASE WHEN claimed THEN 'scheduled' END, CASE WHEN claimed THEN now() END,
        CASE WHEN claimed THEN now() + ${claim.leaseMs} * interval '1 millisecond' END,
        CASE WHEN claimed THEN ${claim.claimedBy} END, CASE WHEN claimed OR skip THEN NULL ELSE now() END,
        CASE WHEN skip THEN 'webhook_disabled' END, CASE WHEN skip THEN now() END
      FROM (
        -- A disabled webhook gets its windows as skipped deliveries: kept, never sent, recoverable. The
        -- caller's webhook cache may not know of the disabling yet and reserve one as claimed: the
        -- database decides, so a skipped delivery is never claimed (it is then reported as existing,
        -- and the caller gives its reservation back).
        SELECT s.id, s.window_id, s.webhook_id, s.tenant_id, s.rule_id, s.rule_version, s.url, s.origin, s.trace_id,
          s.claimed AND NOT s.skip AS claimed, s.skip
        FROM (
          SELECT v.*, EXISTS (
            SELECT 1 FROM webhook_health h WHERE h.rule_id = v.rule_id AND h.webhook_id = v.webhook_id AND h.state = 'disabled'
          ) AS skip FROM v
        ) s
      ) v
      ON CONFLICT DO NOTHING
      RETURNING id, status
    )
    SELECT (SELECT count(*) FROM w)::int AS windows, (SELECT count(*) FROM d)::int AS created,
      (SELECT count(*) FROM d WHERE status = 'skipped')::int AS skipped,
      (SELECT coalesce(array_agg(v.id::text), '{}') FROM v
        WHERE NOT EXISTS (SELECT 1 FROM d WHERE d.id = v.id AND d.status <> 'skipped')) AS existing`)) as {
    windows: number;
    created: number;
    skipped: number;
    existing: string[];
  }[];
  return {
    windowsStored: rows[0]?.windows ?? 0,
    deliveriesCreated: rows[0]?.created ?? 0,
    skipped: rows[0]?.skipped ?? 0,
    existing: rows[0]?.existing ?? [],
  };
}

/** What sending a window needs: its webhook body, and which of its window's chunks it is. */
export interface StoredPayload {
  readonly payload: string;
  readonly chunkIndex: number;
  readonly chunkCount: number;
  /** Set for a window a backfill made: sent as the `runhooks-backfill` header. */
  readonly backfillId: string | undefined;
}

/** The stored webhook bodies of these windows (windows without one are absent). */
export async function windowPayloads(db: Queryable, windowIds: readonly string[]): Promise<Map<string, StoredPayload>> {
  if (windowIds.length === 0) return new Map();
  const rows = (await db.query(sql`
    SELECT window_id, payload, chunk_index, chunk_count, backfill_id FROM delivery_windows
    WHERE window_id = ANY(${[...windowIds]}::uuid[]) AND payload IS NOT NULL`)) as {
    window_id: string;
    payload: string;
    chunk_index: number;
    chunk_count: number;
    backfill_id: string | null;
  }[];
  return new Map(
    rows.map((r) => [
      r.window_id,
      {
        payload: r.payload,
        chunkIndex: r.chunk_index,
        chunkCount: r.chunk_count,
        backfillId: r.backfill_id ?? undefined,
      },
    ]),
  );
}
