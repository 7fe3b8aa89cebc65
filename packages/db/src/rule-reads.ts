import { sql, type Queryable } from "@databases/pg";
import type { RuleEventType } from "@runhooks/contracts";
import { toRecord, type RuleEventRecord, type RuleRecord, type RuleRow, type StoredRule } from "./rule-records.js";
import { keyringOf, type Database } from "./pool.js";
import type { StoredWebhook } from "./webhook-resolution.js";
import { openRule, openWebhook } from "./webhook-secrets.js";

/** Reading the rule store: a tenant's rules, a rule's history, a version's webhooks; secrets opened. */

function opened(db: Database, row: RuleRow): RuleRecord {
  return toRecord({ ...row, rule: openRule(keyringOf(db), row.rule) });
}

/** The tenant's current version of a rule; undefined if it does not exist, was deleted, or is another tenant's. */
export async function getRule(db: Database, tenantId: string, ruleId: string): Promise<RuleRecord | undefined> {
  const rows = (await db.query(sql`
    SELECT * FROM rules WHERE rule_id = ${ruleId} AND tenant_id = ${tenantId} AND NOT deleted`)) as RuleRow[];
  return rows[0] ? opened(db, rows[0]) : undefined;
}

/** Every live rule of a tenant, oldest first. */
export async function listRules(db: Database, tenantId: string): Promise<RuleRecord[]> {
  const rows = (await db.query(sql`
    SELECT * FROM rules WHERE tenant_id = ${tenantId} AND NOT deleted
    ORDER BY created_at, rule_id`)) as RuleRow[];
  return rows.map((row) => opened(db, row));
}

/**
 * A rule's history, version 1 first; empty if the rule never existed or is another tenant's. The history
 * of a deleted rule stays readable.
 */
export async function ruleHistory(db: Database, tenantId: string, ruleId: string): Promise<RuleEventRecord[]> {
  const rows = (await db.query(sql`
    SELECT rule_id, version, type, rule, occurred_at, effective_from FROM rule_events
    WHERE rule_id = ${ruleId} AND tenant_id = ${tenantId}
    ORDER BY version`)) as {
    rule_id: string;
    version: number;
    type: RuleEventType;
    rule: StoredRule;
    occurred_at: Date;
    effective_from: Date | null;
  }[];
  return rows.map((r) => ({
    ruleId: r.rule_id,
    version: r.version,
    type: r.type,
    rule: openRule(keyringOf(db), r.rule),
    occurredAt: r.occurred_at,
    effectiveFrom: r.effective_from,
  }));
}

/**
 * The webhooks (with their secrets) of one version of a rule, for the delivery service: a window names
 * the rule version that produced it. Undefined if that version does not exist or its secrets were
 * purged (secret-purge.ts); a `deleted` version has the webhooks of the version it deleted.
 */
export async function webhooksOfRuleVersion(
  db: Database,
  ruleId: string,
  version: number,
): Promise<StoredWebhook[] | undefined> {
  const rows = (await db.query(sql`
    SELECT rule -> 'webhooks' AS webhooks FROM rule_events
    WHERE rule_id = ${ruleId} AND version = ${version} AND secrets_purged_at IS NULL`)) as {
    webhooks: StoredWebhook[];
  }[];
  const keyring = keyringOf(db);
  return rows[0]?.webhooks.map((w) => openWebhook(keyring, w, `rule ${ruleId} version ${version}`));
}

/**
 * The current version of each of these rules, for delivery: retries and redeliveries are sent with the
 * webhook as the rule holds it now. A deleted rule, or one never stored, is absent.
 */
export async function currentRuleVersions(db: Queryable, ruleIds: readonly string[]): Promise<Map<string, number>> {
  if (ruleIds.length === 0) return new Map();
  const rows = (await db.query(sql`
    SELECT rule_id, version FROM rules WHERE rule_id = ANY(${[...new Set(ruleIds)]}::uuid[]) AND NOT deleted`)) as {
    rule_id: string;
    version: number;
  }[];
  return new Map(rows.map((r) => [r.rule_id, r.version]));
}
