import { SCHEMA_VERSION, type Rule, type RuleEventType, type RuleVersion } from "@runhooks/contracts";
import type { StoredWebhook } from "./webhook-resolution.js";

/** Rules and their versions as the rule store holds and returns them. */

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

export interface RuleRow {
  rule_id: string;
  tenant_id: string;
  version: number;
  rule: StoredRule;
  deleted: boolean;
  created_at: Date;
  updated_at: Date;
  effective_from: Date | null;
}

export function toRecord(row: RuleRow): RuleRecord {
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
    // Only when set: versions without them stay byte for byte what they were.
    ...(rule.trace_filter == null ? {} : { trace_filter: rule.trace_filter }),
    ...(rule.tree_filter == null ? {} : { tree_filter: rule.tree_filter }),
    ...(rule.trace_horizon_seconds === undefined ? {} : { trace_horizon_seconds: rule.trace_horizon_seconds }),
    sampling_rate: rule.sampling_rate,
    window: rule.window,
  };
}

/** JSON with object keys sorted, so two rules compare equal whatever order jsonb gave their keys. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}
