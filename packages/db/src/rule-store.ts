import { sql, type Queryable, type Transaction } from "@databases/pg";
import {
  SCHEMA_VERSION,
  type FieldIssue,
  type Rule,
  type RuleEventType,
  type RuleVersion,
} from "@runhooks/contracts";
import type { Database } from "./pool.js";
import { decideRuleCount, decideVersionRate, VERSION_RATE_WINDOW_MS, type QuotaRefusal, type RuleQuotas } from "./rule-quotas.js";
import { resolveWebhooks, type StoredWebhook } from "./webhook-resolution.js";

/**
 * The event-sourced rule store (DESIGN.md §3). Every change appends a `rule_events` row with the full
 * rule version, updates the `rules` projection and writes an `outbox` row for the rules topic, all in
 * one transaction. Versions are monotonic per rule: 1, 2, 3, … (a deletion is a version too).
 */

/** A rule version as stored: every webhook has its id; secrets are included. */
export type StoredRule = Omit<Rule, "webhooks"> & { webhooks: StoredWebhook[] };

export interface RuleRecord {
  readonly rule: StoredRule;
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** When the current version's message landed on the rules topic; null until the relay published it. */
  readonly effectiveFrom: Date | null;
}

export interface RuleEventRecord {
  readonly ruleId: string;
  readonly version: number;
  readonly type: RuleEventType;
  readonly rule: StoredRule;
  readonly occurredAt: Date;
  readonly effectiveFrom: Date | null;
}

export type SaveOutcome = "created" | "updated" | "unchanged";

/**
 * - `create`: the id must not be in use (a deleted rule's id may be used again by its tenant).
 * - `upsert`: create, or replace the current version (GitOps `PUT`); an identical rule is `unchanged`.
 * - `update`: replace the current version; the rule must exist.
 */
export type SaveMode = "create" | "upsert" | "update";

export interface SaveRuleInput {
  readonly tenantId: string;
  /** A validated rule whose `tenant_id` is `tenantId`. Redacted secrets (`***`) mean "keep the stored one". */
  readonly rule: Rule;
  readonly mode: SaveMode;
  /** Optimistic concurrency: the version the writer last saw. */
  readonly expectedVersion?: number | undefined;
  /** Work out the outcome, write nothing. */
  readonly dryRun?: boolean | undefined;
  /**
   * The tenant's quotas (unset: none). A dry run is judged by the rule count only: it writes no
   * version, so it is not counted against the rate and not refused by it.
   */
  readonly quotas?: RuleQuotas | undefined;
}

export type SaveRuleResult =
  | { readonly ok: true; readonly outcome: SaveOutcome; readonly record: RuleRecord }
  | { readonly ok: false; readonly reason: "not_found" }
  | { readonly ok: false; readonly reason: "exists" }
  /** The id is another tenant's: rule ids are global (they key the rules topic). */
  | { readonly ok: false; readonly reason: "id_taken" }
  | { readonly ok: false; readonly reason: "version_conflict"; readonly current: RuleRecord | null }
  | { readonly ok: false; readonly reason: "invalid"; readonly issues: readonly FieldIssue[] }
  | { readonly ok: false; readonly reason: "quota"; readonly refusal: QuotaRefusal };

export type DeleteRuleResult =
  | { readonly ok: true; readonly version: number }
  | { readonly ok: false; readonly reason: "not_found" }
  | { readonly ok: false; readonly reason: "version_conflict"; readonly current: RuleRecord }
  | { readonly ok: false; readonly reason: "quota"; readonly refusal: QuotaRefusal };

interface RuleRow {
  rule_id: string;
  tenant_id: string;
  version: number;
  rule: StoredRule;
  deleted: boolean;
  created_at: Date;
  updated_at: Date;
  effective_from: Date | null;
}

function toRecord(row: RuleRow): RuleRecord {
  return {
    rule: row.rule,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    effectiveFrom: row.effective_from,
  };
}

/** The matching part of a rule version: what the rules topic carries (no webhooks, no secrets). */
export function toRuleVersion(rule: StoredRule | Rule, version: number): RuleVersion {
  return {
    schema_version: SCHEMA_VERSION,
    kind: "rule",
    rule_id: rule.id,
    version,
    tenant_id: rule.tenant_id,
    session_id: rule.session_id ?? null,
    enabled: rule.enabled,
    filter: rule.filter,
    sampling_rate: rule.sampling_rate,
    window: rule.window,
  };
}

/** JSON with object keys sorted, so two rules compare equal whatever order jsonb gave their keys. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function eventTypeOf(previous: StoredRule, next: StoredRule): RuleEventType {
  const withoutEnabled = (r: StoredRule) => canonicalJson({ ...r, enabled: null });
  if (previous.enabled !== next.enabled && withoutEnabled(previous) === withoutEnabled(next)) {
    return next.enabled ? "enabled" : "disabled";
  }
  return "updated";
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "23505";
}

/** Two writers creating the same new rule race on its primary key; the loser retries and sees the winner. */
async function withRetryOnUniqueViolation<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isUniqueViolation(error) || attempt >= 3) throw error;
    }
  }
}

/**
 * Serialises a tenant's quota-checked writes, so two concurrent writes cannot both take the last
 * place. `FOR NO KEY UPDATE` leaves the tenant's foreign-key checks (inserts elsewhere) unblocked.
 * Taken before any rule row, in every writer, so the lock order is always tenant then rule.
 */
async function lockTenant(tx: Transaction, tenantId: string): Promise<void> {
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
async function quotaFacts(tx: Transaction, tenantId: string, countRules: boolean, rateLimit: number | undefined): Promise<QuotaFacts> {
  const liveRules = countRules ? sql`(SELECT count(*)::int FROM rules WHERE tenant_id = ${tenantId} AND NOT deleted)` : sql`0`;
  const rows = (await tx.query(sql`
    SELECT ${liveRules} AS live_rules, count(r.occurred_at)::int AS recent_versions, min(r.occurred_at) AS oldest_counted, now() AS now
    FROM (
      SELECT occurred_at FROM rule_events
      WHERE tenant_id = ${tenantId} AND occurred_at > now() - ${VERSION_RATE_WINDOW_MS} * interval '1 millisecond'
      ORDER BY occurred_at DESC LIMIT ${rateLimit ?? 0}
    ) r`)) as { live_rules: number; recent_versions: number; oldest_counted: Date | null; now: Date }[];
  const row = rows[0]!;
  return { liveRules: row.live_rules, recentVersions: row.recent_versions, oldestCounted: row.oldest_counted, now: row.now };
}

/** The first quota this write would break, or undefined. */
async function quotaRefusal(
  tx: Transaction,
  tenantId: string,
  quotas: RuleQuotas,
  write: { readonly addsRule: boolean; readonly addsVersion: boolean },
): Promise<QuotaRefusal | undefined> {
  if (!write.addsRule && !write.addsVersion) return undefined;
  const facts = await quotaFacts(tx, tenantId, write.addsRule, write.addsVersion ? quotas.maxVersionsPerMinute : undefined);
  return (
    (write.addsRule ? decideRuleCount({ liveRules: facts.liveRules, limit: quotas.maxRulesPerTenant }) : undefined) ??
    (write.addsVersion ? decideVersionRate({ ...facts, limit: quotas.maxVersionsPerMinute }) : undefined)
  );
}

async function lockRule(tx: Transaction, ruleId: string): Promise<RuleRow | undefined> {
  const rows = (await tx.query(sql`SELECT * FROM rules WHERE rule_id = ${ruleId} FOR UPDATE`)) as RuleRow[];
  return rows[0];
}

async function appendEvent(
  tx: Transaction,
  tenantId: string,
  type: RuleEventType,
  rule: StoredRule,
  version: number,
): Promise<void> {
  const ruleJson = JSON.stringify(rule);
  await tx.query(sql`
    INSERT INTO rule_events (tenant_id, rule_id, version, type, rule)
    VALUES (${tenantId}, ${rule.id}, ${version}, ${type}, ${ruleJson}::jsonb)`);
  const payload = type === "deleted" ? null : JSON.stringify(toRuleVersion(rule, version));
  await tx.query(sql`
    INSERT INTO outbox (rule_id, version, payload) VALUES (${rule.id}, ${version}, ${payload}::jsonb)`);
}

/** Creates or replaces a rule: one event, the projection and an outbox row, atomically. */
export async function saveRule(db: Database, input: SaveRuleInput): Promise<SaveRuleResult> {
  return withRetryOnUniqueViolation(() => db.tx((tx) => saveInTransaction(tx, input)));
}

async function saveInTransaction(tx: Transaction, input: SaveRuleInput): Promise<SaveRuleResult> {
  const { tenantId, rule, mode, expectedVersion, quotas } = input;
  if (rule.tenant_id !== tenantId) throw new Error("saveRule: rule.tenant_id must be the writer's tenant");
  if (quotas !== undefined) await lockTenant(tx, tenantId);
  const row = await lockRule(tx, rule.id);
  if (row && row.tenant_id !== tenantId) {
    // A rule id is global (it keys the rules topic): another tenant's rule is invisible to an update,
    // and its id cannot be taken by a create.
    return mode === "update" ? { ok: false, reason: "not_found" } : { ok: false, reason: "id_taken" };
  }
  const live = row && !row.deleted ? row : undefined;
  if (live && mode === "create") return { ok: false, reason: "exists" };
  if (!live && mode === "update") return { ok: false, reason: "not_found" };
  if (expectedVersion !== undefined && expectedVersion !== live?.version) {
    return { ok: false, reason: "version_conflict", current: live ? toRecord(live) : null };
  }

  const resolved = resolveWebhooks(rule.webhooks, live?.rule.webhooks ?? []);
  if (!resolved.ok) return { ok: false, reason: "invalid", issues: resolved.issues };
  // Absent and null mean the same (no session scope); stored as null, so neither form reads as a change.
  const next: StoredRule = { ...rule, session_id: rule.session_id ?? null, webhooks: resolved.webhooks };

  if (live && canonicalJson(live.rule) === canonicalJson(next)) {
    return { ok: true, outcome: "unchanged", record: toRecord(live) };
  }
  if (quotas !== undefined) {
    const refusal = await quotaRefusal(tx, tenantId, quotas, { addsRule: !live, addsVersion: input.dryRun !== true });
    if (refusal !== undefined) return { ok: false, reason: "quota", refusal };
  }
  const version = (row?.version ?? 0) + 1;
  const type: RuleEventType = live ? eventTypeOf(live.rule, next) : "created";
  const outcome: SaveOutcome = live ? "updated" : "created";
  if (input.dryRun) {
    const now = new Date();
    return {
      ok: true,
      outcome,
      record: { rule: next, version, createdAt: live?.created_at ?? now, updatedAt: now, effectiveFrom: null },
    };
  }

  await appendEvent(tx, tenantId, type, next, version);
  const ruleJson = JSON.stringify(next);
  const rows = (await tx.query(sql`
    INSERT INTO rules (rule_id, tenant_id, version, rule, deleted)
    VALUES (${next.id}, ${tenantId}, ${version}, ${ruleJson}::jsonb, false)
    ON CONFLICT (rule_id) DO UPDATE SET
      version = EXCLUDED.version,
      rule = EXCLUDED.rule,
      deleted = false,
      -- A deleted rule's id used again starts a new life: its creation time is now.
      created_at = CASE WHEN rules.deleted THEN now() ELSE rules.created_at END,
      updated_at = now(),
      effective_from = NULL
    RETURNING *`)) as RuleRow[];
  return { ok: true, outcome, record: toRecord(rows[0]!) };
}

export interface DeleteRuleInput {
  readonly tenantId: string;
  readonly ruleId: string;
  readonly expectedVersion?: number | undefined;
  /** The tenant's quotas (unset: none); a deletion is a version, counted against the rate. */
  readonly quotas?: RuleQuotas | undefined;
}

/** Deletes a rule: a `deleted` version (a tombstone on the rules topic); its history stays. */
export async function deleteRule(db: Database, input: DeleteRuleInput): Promise<DeleteRuleResult> {
  return db.tx(async (tx) => {
    if (input.quotas !== undefined) await lockTenant(tx, input.tenantId);
    const row = await lockRule(tx, input.ruleId);
    if (!row || row.deleted || row.tenant_id !== input.tenantId) return { ok: false, reason: "not_found" };
    if (input.expectedVersion !== undefined && input.expectedVersion !== row.version) {
      return { ok: false, reason: "version_conflict", current: toRecord(row) };
    }
    if (input.quotas !== undefined) {
      const refusal = await quotaRefusal(tx, input.tenantId, input.quotas, { addsRule: false, addsVersion: true });
      if (refusal !== undefined) return { ok: false, reason: "quota", refusal };
    }
    const version = row.version + 1;
    await appendEvent(tx, input.tenantId, "deleted", row.rule, version);
    await tx.query(sql`
      UPDATE rules SET version = ${version}, deleted = true, updated_at = now(), effective_from = NULL
      WHERE rule_id = ${input.ruleId}`);
    return { ok: true, version };
  });
}

/** The tenant's current version of a rule; undefined if it does not exist, was deleted, or is another tenant's. */
export async function getRule(db: Queryable, tenantId: string, ruleId: string): Promise<RuleRecord | undefined> {
  const rows = (await db.query(sql`
    SELECT * FROM rules WHERE rule_id = ${ruleId} AND tenant_id = ${tenantId} AND NOT deleted`)) as RuleRow[];
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/** Every live rule of a tenant, oldest first. */
export async function listRules(db: Queryable, tenantId: string): Promise<RuleRecord[]> {
  const rows = (await db.query(sql`
    SELECT * FROM rules WHERE tenant_id = ${tenantId} AND NOT deleted
    ORDER BY created_at, rule_id`)) as RuleRow[];
  return rows.map(toRecord);
}

/**
 * A rule's history, version 1 first; empty if the rule never existed or is another tenant's. The history
 * of a deleted rule stays readable.
 */
export async function ruleHistory(db: Queryable, tenantId: string, ruleId: string): Promise<RuleEventRecord[]> {
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
    rule: r.rule,
    occurredAt: r.occurred_at,
    effectiveFrom: r.effective_from,
  }));
}

/**
 * The webhooks (with their secrets) of one version of a rule, for the delivery service: a window names
 * the rule version that produced it. Undefined if that version does not exist; a `deleted` version has
 * the webhooks of the version it deleted.
 */
export async function webhooksOfRuleVersion(
  db: Queryable,
  ruleId: string,
  version: number,
): Promise<StoredWebhook[] | undefined> {
  const rows = (await db.query(sql`
    SELECT rule -> 'webhooks' AS webhooks FROM rule_events
    WHERE rule_id = ${ruleId} AND version = ${version}`)) as { webhooks: StoredWebhook[] }[];
  return rows[0]?.webhooks;
}
