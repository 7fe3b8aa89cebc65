import { sql, type Transaction } from "@databases/pg";
import type { FieldIssue, Rule, RuleEventType } from "@runhooks/contracts";
import { keyringOf, type Database } from "./pool.js";
import { lockTenant, quotaRefusal } from "./rule-quota-check.js";
import type { QuotaRefusal, RuleQuotas } from "./rule-quotas.js";
import {
  canonicalJson,
  toRecord,
  toRuleVersion,
  type RuleRecord,
  type RuleRow,
  type StoredRule,
} from "./rule-records.js";
import type { SecretKeyring } from "./secret-cipher.js";
import { resolveWebhooks } from "./webhook-resolution.js";
import { openRule, sealRule } from "./webhook-secrets.js";

/**
 * The event-sourced rule store (DESIGN.md §3). Every change appends a `rule_events` row with the full
 * rule version, updates the `rules` projection and writes an `outbox` row for the rules topic, all in
 * one transaction. Versions are monotonic per rule: 1, 2, 3, … (a deletion is a version too). Reading
 * the store: rule-reads.ts. Webhook secrets are sealed before they are written and opened when read
 * (webhook-secrets.ts); comparisons are made on the opened values.
 */

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

/** The rule's row, locked, its webhooks opened. */
async function lockRule(tx: Transaction, keyring: SecretKeyring, ruleId: string): Promise<RuleRow | undefined> {
  const rows = (await tx.query(sql`SELECT * FROM rules WHERE rule_id = ${ruleId} FOR UPDATE`)) as RuleRow[];
  return rows[0] && { ...rows[0], rule: openRule(keyring, rows[0].rule) };
}

/** `sealed`: the version with its webhooks sealed. */
async function appendEvent(
  tx: Transaction,
  tenantId: string,
  type: RuleEventType,
  sealed: StoredRule,
  version: number,
): Promise<void> {
  const ruleJson = JSON.stringify(sealed);
  await tx.query(sql`
    INSERT INTO rule_events (tenant_id, rule_id, version, type, rule)
    VALUES (${tenantId}, ${sealed.id}, ${version}, ${type}, ${ruleJson}::jsonb)`);
  // The rules topic carries the matching part only: no webhook, so nothing secret, sealed or not.
  const payload = type === "deleted" ? null : JSON.stringify(toRuleVersion(sealed, version));
  await tx.query(sql`
    INSERT INTO outbox (rule_id, version, payload) VALUES (${sealed.id}, ${version}, ${payload}::jsonb)`);
}

/** Creates or replaces a rule: one event, the projection and an outbox row, atomically. */
export async function saveRule(db: Database, input: SaveRuleInput): Promise<SaveRuleResult> {
  const keyring = keyringOf(db);
  return withRetryOnUniqueViolation(() => db.tx((tx) => saveInTransaction(tx, keyring, input)));
}

async function saveInTransaction(
  tx: Transaction,
  keyring: SecretKeyring,
  input: SaveRuleInput,
): Promise<SaveRuleResult> {
  const { tenantId, rule, mode, expectedVersion, quotas } = input;
  if (rule.tenant_id !== tenantId) throw new Error("saveRule: rule.tenant_id must be the writer's tenant");
  if (quotas !== undefined) await lockTenant(tx, tenantId);
  const row = await lockRule(tx, keyring, rule.id);
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

  const sealed = sealRule(keyring, next);
  await appendEvent(tx, tenantId, type, sealed, version);
  const ruleJson = JSON.stringify(sealed);
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
  return { ok: true, outcome, record: toRecord({ ...rows[0]!, rule: next }) };
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
  const keyring = keyringOf(db);
  return db.tx(async (tx) => {
    if (input.quotas !== undefined) await lockTenant(tx, input.tenantId);
    const row = await lockRule(tx, keyring, input.ruleId);
    if (!row || row.deleted || row.tenant_id !== input.tenantId) return { ok: false, reason: "not_found" };
    if (input.expectedVersion !== undefined && input.expectedVersion !== row.version) {
      return { ok: false, reason: "version_conflict", current: toRecord(row) };
    }
    if (input.quotas !== undefined) {
      const refusal = await quotaRefusal(tx, input.tenantId, input.quotas, { addsRule: false, addsVersion: true });
      if (refusal !== undefined) return { ok: false, reason: "quota", refusal };
    }
    const version = row.version + 1;
    await appendEvent(tx, input.tenantId, "deleted", sealRule(keyring, row.rule), version);
    await tx.query(sql`
      UPDATE rules SET version = ${version}, deleted = true, updated_at = now(), effective_from = NULL
      WHERE rule_id = ${input.ruleId}`);
    return { ok: true, version };
  });
}
