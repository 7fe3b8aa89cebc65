import { sql, type Queryable } from "@databases/pg";

/**
 * Backfill jobs (migration `012_backfills`): created by the API, owned by one backfill process at a
 * time under a lease. Every write of the owner names its fencing token: a process whose lease was
 * taken over (it stalled, or was presumed dead) changes nothing.
 */

export type BackfillState = "pending" | "running" | "succeeded" | "failed" | "cancelled";

/** Runs-topic offsets of a backfill's range, per partition: `[start, end)`. */
export type BackfillOffsets = Readonly<Record<string, readonly [number, number]>>;

export interface BackfillRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly from: Date;
  readonly to: Date | null;
  readonly state: BackfillState;
  readonly offsets: BackfillOffsets | null;
  readonly runsTotal: number;
  readonly runsRead: number;
  readonly windowsSent: number;
  readonly checkpoint: unknown;
  readonly fencingToken: number;
  readonly error: string | null;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly updatedAt: Date;
  readonly finishedAt: Date | null;
}

interface Row {
  id: string;
  tenant_id: string;
  rule_id: string;
  rule_version: number;
  from_time: Date;
  to_time: Date | null;
  state: BackfillState;
  offsets: BackfillOffsets | null;
  runs_total: string | number;
  runs_read: string | number;
  windows_sent: number;
  checkpoint: unknown;
  fencing_token: string | number;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  updated_at: Date;
  finished_at: Date | null;
}

function record(r: Row): BackfillRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    ruleId: r.rule_id,
    ruleVersion: r.rule_version,
    from: r.from_time,
    to: r.to_time,
    state: r.state,
    offsets: r.offsets,
    runsTotal: Number(r.runs_total),
    runsRead: Number(r.runs_read),
    windowsSent: r.windows_sent,
    checkpoint: r.checkpoint,
    fencingToken: Number(r.fencing_token),
    error: r.error,
    createdAt: r.created_at,
    startedAt: r.started_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
  };
}

export interface NewBackfill {
  readonly id: string;
  readonly tenantId: string;
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly from: Date;
  readonly to: Date | undefined;
}

export type CreateBackfillResult =
  | { readonly kind: "created"; readonly backfill: BackfillRecord }
  /** Another backfill of the rule is pending or running: one at a time. */
  | { readonly kind: "already_running"; readonly backfill: BackfillRecord };

/** Creates a pending backfill unless one of the rule is pending or running. */
export async function createBackfill(db: Queryable, b: NewBackfill): Promise<CreateBackfillResult> {
  const rows = (await db.query(sql`
    INSERT INTO backfills (id, tenant_id, rule_id, rule_version, from_time, to_time)
    VALUES (${b.id}, ${b.tenantId}, ${b.ruleId}, ${b.ruleVersion}, ${b.from}, ${b.to ?? null})
    ON CONFLICT (rule_id) WHERE state IN ('pending', 'running') DO NOTHING
    RETURNING *`)) as Row[];
  if (rows[0] !== undefined) return { kind: "created", backfill: record(rows[0]) };
  const active = (await db.query(sql`
    SELECT * FROM backfills WHERE rule_id = ${b.ruleId} AND state IN ('pending', 'running')`)) as Row[];
  // It ended between the two statements: try again.
  if (active[0] === undefined) return createBackfill(db, b);
  return { kind: "already_running", backfill: record(active[0]) };
}

/** A tenant's backfills of a rule, newest first. */
export async function listBackfills(db: Queryable, tenantId: string, ruleId: string): Promise<BackfillRecord[]> {
  const rows = (await db.query(sql`
    SELECT * FROM backfills WHERE tenant_id = ${tenantId} AND rule_id = ${ruleId}
    ORDER BY created_at DESC LIMIT 100`)) as Row[];
  return rows.map(record);
}

/** The newest backfill of each of a tenant's rules named (rules without one are absent). */
export async function latestBackfills(
  db: Queryable,
  tenantId: string,
  ruleIds: readonly string[],
): Promise<Map<string, BackfillRecord>> {
  if (ruleIds.length === 0) return new Map();
  const rows = (await db.query(sql`
    SELECT DISTINCT ON (rule_id) * FROM backfills
    WHERE tenant_id = ${tenantId} AND rule_id = ANY(${[...ruleIds]}::uuid[])
    ORDER BY rule_id, created_at DESC`)) as Row[];
  return new Map(rows.map((r) => [r.rule_id, record(r)]));
}

export async function getBackfill(db: Queryable, id: string): Promise<BackfillRecord | undefined> {
  const rows = (await db.query(sql`SELECT * FROM backfills WHERE id = ${id}`)) as Row[];
  return rows[0] === undefined ? undefined : record(rows[0]);
}

export type CancelBackfillResult =
  | { readonly kind: "cancelled"; readonly backfill: BackfillRecord }
  | { readonly kind: "not_found" }
  /** It had ended already (succeeded, failed or cancelled): unchanged. */
  | { readonly kind: "ended"; readonly backfill: BackfillRecord };

/** Cancels a pending or running backfill; its owner notices at its next checkpoint and stops. */
export async function cancelBackfill(
  db: Queryable,
  tenantId: string,
  ruleId: string,
  id: string,
): Promise<CancelBackfillResult> {
  const rows = (await db.query(sql`
    UPDATE backfills SET state = 'cancelled', finished_at = now(), updated_at = now(), lease_until = NULL
    WHERE id = ${id} AND tenant_id = ${tenantId} AND rule_id = ${ruleId} AND state IN ('pending', 'running')
    RETURNING *`)) as Row[];
  if (rows[0] !== undefined) return { kind: "cancelled", backfill: record(rows[0]) };
  const existing = (await db.query(sql`
    SELECT * FROM backfills WHERE id = ${id} AND tenant_id = ${tenantId} AND rule_id = ${ruleId}`)) as Row[];
  return existing[0] === undefined ? { kind: "not_found" } : { kind: "ended", backfill: record(existing[0]) };
}

/**
 * Takes the oldest pending or running backfill whose lease is free (never held, or expired: its owner
 * died or stalled), under a new fencing token. Undefined: nothing to do.
 */
export async function claimBackfill(
  db: Queryable,
  owner: string,
  leaseMs: number,
): Promise<BackfillRecord | undefined> {
  const rows = (await db.query(sql`
    UPDATE backfills SET state = 'running', owner = ${owner}, fencing_token = fencing_token + 1,
      lease_until = now() + ${leaseMs} * interval '1 millisecond', started_at = coalesce(started_at, now()),
      updated_at = now()
    WHERE id = (
      SELECT id FROM backfills
      WHERE state IN ('pending', 'running') AND (lease_until IS NULL OR lease_until < now())
      ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING *`)) as Row[];
  return rows[0] === undefined ? undefined : record(rows[0]);
}

/** The owner's hold on a backfill: every write names it. */
export interface BackfillLease {
  readonly id: string;
  readonly fencingToken: number;
  readonly leaseMs: number;
}

/**
 * Renews the lease. False: the backfill is no longer this owner's to run (cancelled, or its lease was
 * taken over): stop without writing anything else.
 */
export async function renewBackfillLease(db: Queryable, lease: BackfillLease): Promise<boolean> {
  const rows = (await db.query(sql`
    UPDATE backfills SET lease_until = now() + ${lease.leaseMs} * interval '1 millisecond'
    WHERE id = ${lease.id} AND fencing_token = ${lease.fencingToken} AND state = 'running'
    RETURNING 1`)) as unknown[];
  return rows.length > 0;
}

/** The range resolved to offsets (once, by its first owner). False: fenced off. */
export async function setBackfillRange(
  db: Queryable,
  lease: BackfillLease,
  range: { readonly to: Date; readonly offsets: BackfillOffsets; readonly runsTotal: number },
): Promise<boolean> {
  const rows = (await db.query(sql`
    UPDATE backfills SET to_time = ${range.to}, offsets = ${JSON.stringify(range.offsets)}::jsonb,
      runs_total = ${range.runsTotal}, updated_at = now()
    WHERE id = ${lease.id} AND fencing_token = ${lease.fencingToken} AND state = 'running' AND offsets IS NULL
    RETURNING 1`)) as unknown[];
  return rows.length > 0;
}

export interface BackfillProgress {
  readonly runsRead: number;
  /** Chunks stored by this step (added to `windows_sent`). */
  readonly windowsAdded: number;
  readonly checkpoint: unknown;
}

/**
 * Records progress and the checkpoint, and renews the lease; in the caller's transaction, with the
 * windows it stored, so a fenced-off owner's windows are rolled back with it. False: fenced off.
 * `runs_read` never goes back (a resumed backfill re-reads from its restart point).
 */
export async function recordBackfillProgress(
  db: Queryable,
  lease: BackfillLease,
  p: BackfillProgress,
): Promise<boolean> {
  const rows = (await db.query(sql`
    UPDATE backfills SET runs_read = greatest(runs_read, ${p.runsRead}), windows_sent = windows_sent + ${p.windowsAdded},
      checkpoint = ${JSON.stringify(p.checkpoint)}::jsonb, updated_at = now(),
      lease_until = now() + ${lease.leaseMs} * interval '1 millisecond'
    WHERE id = ${lease.id} AND fencing_token = ${lease.fencingToken} AND state = 'running'
    RETURNING 1`)) as unknown[];
  return rows.length > 0;
}

/** Ends a backfill the owner holds: succeeded, or failed with why. False: fenced off. */
export async function finishBackfill(
  db: Queryable,
  lease: BackfillLease,
  outcome: { readonly state: "succeeded" } | { readonly state: "failed"; readonly error: string },
): Promise<boolean> {
  const rows = (await db.query(sql`
    UPDATE backfills SET state = ${outcome.state}, error = ${outcome.state === "failed" ? outcome.error : null},
      finished_at = now(), updated_at = now(), lease_until = NULL
    WHERE id = ${lease.id} AND fencing_token = ${lease.fencingToken} AND state = 'running'
    RETURNING 1`)) as unknown[];
  return rows.length > 0;
}

/** The moment a rule version came into force (its append time on the rules topic); null until published. */
export async function ruleVersionEffectiveFrom(
  db: Queryable,
  ruleId: string,
  version: number,
): Promise<Date | null | undefined> {
  const rows = (await db.query(sql`
    SELECT effective_from FROM rule_events WHERE rule_id = ${ruleId} AND version = ${version}`)) as {
    effective_from: Date | null;
  }[];
  return rows[0]?.effective_from;
}
