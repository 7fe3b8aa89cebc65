import { sql, type Queryable } from "@databases/pg";
import { reapClaims } from "./delivery-reaper.js";

/**
 * Liveness of delivery instances (DESIGN.md §5). Each delivery process holds a session-level advisory
 * lock on a connection of its own for as long as it runs, keyed by its instance id — the id its claims
 * carry in `deliveries.claimed_by`. A process that dies loses its session, and so its lock, at once:
 * whoever sees a claimant's lock free knows its claims are orphaned, without waiting for their lease.
 */

/** First key of every instance lock (the two-int form); the second is `hashtext(instance id)`. */
export const INSTANCE_LOCK_NAMESPACE = 730_199_421;

/**
 * Takes an instance's lock on the session that runs it, without waiting: `locked` false when another
 * session holds it; `pid` is the session's backend. Plain text and values, for the dedicated
 * connection that holds the lock (not the pool).
 */
export function tryInstanceLockQuery(instanceId: string): { readonly text: string; readonly values: unknown[] } {
  return {
    text: "SELECT pg_try_advisory_lock($1::int, hashtext($2)) AS locked, pg_backend_pid() AS pid",
    values: [INSTANCE_LOCK_NAMESPACE, instanceId],
  };
}

/** Whether the session running it holds its instance's lock (`held`); plain text, as above. */
export function holdsInstanceLockQuery(instanceId: string): { readonly text: string; readonly values: unknown[] } {
  return {
    text: `SELECT EXISTS (
      SELECT 1 FROM pg_locks
      WHERE pid = pg_backend_pid() AND granted AND locktype = 'advisory' AND classid = $1::int::oid
        AND objid = (hashtext($2)::bigint & 4294967295)::oid AND objsubid = 2
    ) AS held`,
    values: [INSTANCE_LOCK_NAMESPACE, instanceId],
  };
}

/**
 * The second keys of the instance locks sessions hold or wait for in this database, as bigint (pg_locks
 * shows a lock's keys as oids: unsigned). A session waiting for an instance's lock counts: only a live
 * session waits. `objsubid = 2` is the two-int form; the one-bigint form of the same bits is not ours.
 */
const liveInstanceKeys = sql`
  SELECT l.objid::bigint FROM pg_locks l
  WHERE l.locktype = 'advisory' AND l.classid = ${INSTANCE_LOCK_NAMESPACE}::int::oid AND l.objsubid = 2
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;

/** A claimed_by value as the second key of its instance lock (pg_locks' unsigned form). */
const instanceKey = (column: string) => sql`(hashtext(${sql.ident(column)})::bigint & 4294967295)`;

/** One instance holding in-flight claims, as the reaper sees it. */
export interface Claimant {
  /** `deliveries.claimed_by` (null or empty: no instance claimed it under a lock). */
  readonly instanceId: string | null;
  readonly claims: number;
  /** The earliest lease among its claims. */
  readonly earliestLeaseUntil: Date;
  /** Its instance lock is held (or waited for) by some session of this database. */
  readonly alive: boolean;
}

export interface ClaimantsSnapshot {
  /** The database's clock when the snapshot was taken: leases are judged by it. */
  readonly now: Date;
  readonly claimants: readonly Claimant[];
}

/**
 * Every instance holding in-flight claims, with its earliest lease and whether its instance lock is
 * held: one statement, pg_locks read once.
 */
export async function claimantsSnapshot(db: Queryable): Promise<ClaimantsSnapshot> {
  const rows = (await db.query(sql`
    WITH live AS MATERIALIZED (${liveInstanceKeys}), c AS (
      SELECT claimed_by, count(*)::int AS claims, min(lease_until) AS earliest
      FROM deliveries WHERE status = 'in_flight' GROUP BY claimed_by
    )
    SELECT now() AS now, c.claimed_by, c.claims, c.earliest,
      coalesce(${instanceKey("claimed_by")} IN (SELECT objid FROM live), false) AS alive
    FROM (SELECT 1) one LEFT JOIN c ON true`)) as {
    now: Date;
    claimed_by: string | null;
    claims: number | null;
    earliest: Date | null;
    alive: boolean;
  }[];
  return {
    now: rows[0]!.now,
    claimants: rows
      .filter((r) => r.claims !== null)
      .map((r) => ({ instanceId: r.claimed_by, claims: r.claims!, earliestLeaseUntil: r.earliest!, alive: r.alive })),
  };
}

/**
 * Puts back in the queue (as the lease reaper does: due now, the attempt recorded `interrupted`) the
 * in-flight claims of these instances whose lock is still free when the statement runs — an instance
 * that took its lock again since it was judged dead keeps what it claims. At most `limit`; returns how many.
 */
export async function reapDeadInstanceClaims(
  db: Queryable,
  instanceIds: readonly string[],
  limit: number,
): Promise<number> {
  if (instanceIds.length === 0) return 0;
  return reapClaims(
    db,
    sql`claimed_by = ANY(${[...instanceIds]}::text[]) AND NOT (${instanceKey("claimed_by")} = ANY(ARRAY(${liveInstanceKeys})))`,
    limit,
  );
}
