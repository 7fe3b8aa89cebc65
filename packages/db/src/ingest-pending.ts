import { sql, type Queryable } from "@databases/pg";

/**
 * Runs the ingest service holds until they are complete (migration `004_ingest_pending`). A row is the
 * create and the merged patches of one run of one tenant; once the merged run is acknowledged by Kafka
 * the row keeps only `produced_at`, so a late copy is recognised as a duplicate until it expires.
 */

type JsonObject = Record<string, unknown>;

export interface PendingRun {
  readonly runId: string;
  readonly created: JsonObject | null;
  readonly updates: JsonObject | null;
  readonly producedAt: Date | null;
}

export interface PendingRunState {
  readonly runId: string;
  readonly created: JsonObject | null;
  readonly updates: JsonObject | null;
  /** True: the merged run was produced (its data is dropped, only the marker stays). */
  readonly produced: boolean;
}

/**
 * Locks the rows of these runs for the transaction, creating empty ones first so that two requests
 * about the same new run serialise on it too (ids are locked in sorted order: no deadlocks).
 */
export async function lockPendingRuns(
  tx: Queryable,
  tenantId: string,
  runIds: readonly string[],
): Promise<Map<string, PendingRun>> {
  const ids = [...new Set(runIds)].sort();
  if (ids.length === 0) return new Map();
  await tx.query(sql`
    INSERT INTO ingest_pending (tenant_id, run_id)
    SELECT ${tenantId}, id FROM unnest(${ids}::uuid[]) AS t(id) ORDER BY id
    ON CONFLICT (tenant_id, run_id) DO NOTHING`);
  const rows = (await tx.query(sql`
    SELECT run_id, created, updates, produced_at FROM ingest_pending
    WHERE tenant_id = ${tenantId} AND run_id = ANY(${ids}::uuid[])
    ORDER BY run_id FOR UPDATE`)) as {
    run_id: string;
    created: JsonObject | null;
    updates: JsonObject | null;
    produced_at: Date | null;
  }[];
  return new Map(
    rows.map((r) => [r.run_id, { runId: r.run_id, created: r.created, updates: r.updates, producedAt: r.produced_at }]),
  );
}

/** Writes the new state of locked rows in one statement. */
export async function savePendingRuns(
  tx: Queryable,
  tenantId: string,
  states: readonly PendingRunState[],
): Promise<void> {
  if (states.length === 0) return;
  const ids = states.map((s) => s.runId);
  const created = states.map((s) => (s.produced || s.created === null ? null : JSON.stringify(s.created)));
  const updates = states.map((s) => (s.produced || s.updates === null ? null : JSON.stringify(s.updates)));
  const produced = states.map((s) => s.produced);
  await tx.query(sql`
    UPDATE ingest_pending AS p SET
      created = s.created,
      updates = s.updates,
      produced_at = CASE WHEN s.produced THEN coalesce(p.produced_at, now()) ELSE NULL END,
      updated_at = now()
    FROM unnest(${ids}::uuid[], ${created}::jsonb[], ${updates}::jsonb[], ${produced}::boolean[]) AS s(run_id, created, updates, produced)
    WHERE p.tenant_id = ${tenantId} AND p.run_id = s.run_id`);
}

export interface ExpiredPendingRuns {
  /** Incomplete runs dropped: their end never arrived in time. */
  readonly expired: number;
  /** Markers of produced runs forgotten. */
  readonly forgotten: number;
}

/** Deletes rows untouched for `olderThanMs`. */
export async function expirePendingRuns(db: Queryable, olderThanMs: number): Promise<ExpiredPendingRuns> {
  const rows = (await db.query(sql`
    WITH gone AS (
      DELETE FROM ingest_pending WHERE updated_at < now() - make_interval(secs => ${olderThanMs / 1000})
      RETURNING produced_at IS NULL AS incomplete
    )
    SELECT count(*) FILTER (WHERE incomplete) AS expired, count(*) FILTER (WHERE NOT incomplete) AS forgotten FROM gone`)) as {
    expired: bigint | number;
    forgotten: bigint | number;
  }[];
  return { expired: Number(rows[0]?.expired ?? 0), forgotten: Number(rows[0]?.forgotten ?? 0) };
}

/** Incomplete runs held now. */
export async function countPendingRuns(db: Queryable): Promise<number> {
  const rows = (await db.query(sql`SELECT count(*) AS n FROM ingest_pending WHERE produced_at IS NULL`)) as {
    n: bigint | number;
  }[];
  return Number(rows[0]?.n ?? 0);
}
