import { sql, type SQLQuery } from "@runhooks/db";

interface Queryable {
  query(query: SQLQuery): Promise<unknown[]>;
}

/**
 * The cap on a tenant's incomplete runs (RUNHOOKS_INGEST_MAX_PENDING_PER_TENANT). Counting a tenant's
 * rows on every request would scan its produced markers too, so each instance keeps an estimate per
 * tenant — the store's counts at each sweep plus what this instance added and completed since — and
 * counts exactly, inside the request's transaction, only when the estimate says the request could
 * cross the cap. Other instances' additions since the sweep are what the estimate misses; the exact
 * count at the cap sees them.
 */
export class PendingQuota {
  private estimates = new Map<string, number>();

  constructor(readonly limit: number) {}

  /** The store's counts of incomplete runs, by tenant (the sweep). */
  reset(counts: ReadonlyMap<string, number>): void {
    this.estimates = new Map(counts);
  }

  /** True when adding `added` incomplete runs could take the tenant past the cap: count exactly. */
  needsCount(tenantId: string, added: number): boolean {
    return added > 0 && (this.estimates.get(tenantId) ?? 0) + added > this.limit;
  }

  /** The exact count, as the store has it now. */
  set(tenantId: string, count: number): void {
    if (count <= 0) this.estimates.delete(tenantId);
    else this.estimates.set(tenantId, count);
  }

  /** A committed change: runs added to and completed from the tenant's incomplete ones. */
  apply(tenantId: string, delta: number): void {
    this.set(tenantId, (this.estimates.get(tenantId) ?? 0) + delta);
  }
}

/** A tenant's incomplete runs (inside a transaction: its own uncommitted rows included). */
export async function countTenantPending(db: Queryable, tenantId: string): Promise<number> {
  const rows = (await db.query(
    sql`SELECT count(*)::int AS n FROM ingest_pending WHERE tenant_id = ${tenantId} AND produced_at IS NULL`,
  )) as { n: number }[];
  return rows[0]?.n ?? 0;
}

/** Incomplete runs by tenant: one scan, at each sweep (it also gives the pending-runs gauge). */
export async function countPendingByTenant(db: Queryable): Promise<Map<string, number>> {
  const rows = (await db.query(
    sql`SELECT tenant_id, count(*)::int AS n FROM ingest_pending WHERE produced_at IS NULL GROUP BY tenant_id`,
  )) as { tenant_id: string; n: number }[];
  return new Map(rows.map((r) => [r.tenant_id, r.n]));
}
