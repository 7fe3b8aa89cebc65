import type { FieldIssue, ParseResult } from "@runhooks/contracts";
import { getRule, saveRule, type Database, type RuleQuotas, type RuleRecord, type SaveRuleResult } from "@runhooks/db";
import { expectedVersion, type RuleDocument } from "./rule-input.js";

export interface PatchRuleInput {
  readonly tenantId: string;
  readonly ruleId: string;
  /** The version from `If-Match`, if the client sent one. */
  readonly ifMatch: number | undefined;
  readonly quotas: RuleQuotas;
  /** The patch applied to the current version, validated: the rule document to save. Pure. */
  readonly apply: (current: RuleRecord) => ParseResult<RuleDocument>;
}

export type PatchRuleOutcome =
  | { readonly kind: "not_found" }
  | { readonly kind: "invalid_rule"; readonly issues: readonly FieldIssue[] }
  | { readonly kind: "invalid_request"; readonly issues: readonly FieldIssue[] }
  /** `expected`: the version the client asked for, if any. */
  | { readonly kind: "saved"; readonly result: SaveRuleResult; readonly expected: number | undefined };

/** How often a patch without a client version is applied again to a rule that moved on under it. */
const MAX_ATTEMPTS = 3;

/**
 * Changes some fields of a rule, whatever the API shape of the patch. Concurrency: the version from
 * `If-Match` or the document's `version`, else the version the patch was applied to — a concurrent
 * write in between is a conflict, never silently undone; without a client version the patch is
 * applied again to the newer version (a write that slipped in between is merged into, not lost).
 */
export async function patchRule(db: Database, input: PatchRuleInput): Promise<PatchRuleOutcome> {
  for (let attempt = 1; ; attempt++) {
    // 1. Load the current version.
    const current = await getRule(db, input.tenantId, input.ruleId);
    if (!current) return { kind: "not_found" };
    // 2. Apply the patch and validate the result.
    const document = input.apply(current);
    if (!document.ok) return { kind: "invalid_rule", issues: document.issues };
    const explicit = expectedVersion(input.ifMatch, document.value.version);
    if (!explicit.ok) return { kind: "invalid_request", issues: explicit.issues };
    // 3. Save it over the version it was applied to (or the one the client named).
    const result = await saveRule(db, {
      tenantId: input.tenantId,
      rule: document.value.rule,
      mode: "update",
      expectedVersion: explicit.value ?? current.version,
      quotas: input.quotas,
    });
    const retry =
      !result.ok && result.reason === "version_conflict" && explicit.value === undefined && attempt < MAX_ATTEMPTS;
    if (!retry) return { kind: "saved", result, expected: explicit.value };
  }
}
