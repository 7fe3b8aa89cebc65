import { sql, type Transaction } from "@databases/pg";
import {
  decideRuleCount,
  decideVersionRate,
  VERSION_RATE_WINDOW_MS,
  type QuotaRefusal,
  type RuleQuotas,
} from "./rule-quotas.js";

/** The facts the rule quotas are decided on (rule-quotas.ts), read under the tenant's lock. */

/**
 * Serialises a tenant's quota-checked writes, so two concurrent writes cannot both take the last
 * place. `FOR NO KEY UPDATE` leaves the tenant's foreign-key checks (inserts elsewhere) unblocked.
 * Taken before any rule row, in every writer, so the lock order is always tenant then rule.
 */
export async function lockTenant(tx: Transaction, tenantId: string): Promise<void> {
  await tx.query(sql`SELECT 1 FROM tenants WHERE id = ${tenantId} FOR NO KEY UPDATE`);
}

interface QuotaFacts {
  readonly liveRules: number;
  readonly recentVersions: number;
  readonly oldestCounted: Date | null;
  readonly now: Date;
}

/**
 * What the quota decisions need, in one statement (after `lockTenant`, so it sees every write that
 * went before): the tenant's live rules when `countRules`, and its newest versions of the last minute,
 * at most `rateLimit` (rule_events_tenant_time_idx), when `rateLimit` is set.
 */
async function quotaFacts(
  tx: Transaction,
  tenantId: string,
  countRules: boolean,
  rateLimit: number | undefined,
): Promise<QuotaFacts> {
  const liveRules = countRules
    ? sql`(SELECT count(*)::int FROM rules WHERE tenant_id = ${tenantId} AND NOT deleted)`
    : sql`0`;
  const rows = (await tx.query(sql`
    SELECT ${liveRules} AS live_rules, count(r.occurred_at)::int AS recent_versions, min(r.occurred_at) AS oldest_counted, now() AS now
    FROM (
      SELECT occurred_at FROM rule_events
      WHERE tenant_id = ${tenantId} AND occurred_at > now() - ${VERSION_RATE_WINDOW_MS} * interval '1 millisecond'
      ORDER BY occurred_at DESC LIMIT ${rateLimit ?? 0}
    ) r`)) as { live_rules: number; recent_versions: number; oldest_counted: Date | null; now: Date }[];
  const row = rows[0]!;
  return {
    liveRules: row.live_rules,
    recentVersions: row.recent_versions,
    oldestCounted: row.oldest_counted,
    now: row.now,
  };
}

/** The first quota this write would break, or undefined. */
export async function quotaRefusal(
  tx: Transaction,
  tenantId: string,
  quotas: RuleQuotas,
  write: { readonly addsRule: boolean; readonly addsVersion: boolean },
): Promise<QuotaRefusal | undefined> {
  if (!write.addsRule && !write.addsVersion) return undefined;
  const facts = await quotaFacts(
    tx,
    tenantId,
    write.addsRule,
    write.addsVersion ? quotas.maxVersionsPerMinute : undefined,
  );
  return (
    (write.addsRule ? decideRuleCount({ liveRules: facts.liveRules, limit: quotas.maxRulesPerTenant }) : undefined) ??
    (write.addsVersion ? decideVersionRate({ ...facts, limit: quotas.maxVersionsPerMinute }) : undefined)
  );
}
