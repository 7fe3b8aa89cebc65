import type { Database } from "./pool.js";
import type { RuleQuotas } from "./rule-quotas.js";
import { getRule } from "./rule-reads.js";
import type { RuleRecord, StoredRule } from "./rule-records.js";
import { saveRule, type SaveRuleResult } from "./rule-store.js";
import type { StoredWebhook } from "./webhook-resolution.js";

/**
 * Rotating a webhook's signing secret with an overlap: the new secret signs from the next version on,
 * and the old one signs too until the grace period ends, so a receiver can switch over between two
 * requests without refusing any (DESIGN.md §5). A rotation is a rule version like any edit.
 */

export type RotationPlan =
  | { readonly ok: true; readonly webhooks: StoredWebhook[] }
  | { readonly ok: false; readonly reason: "webhook_not_found" };

/**
 * The webhooks after rotating `webhookId`'s secret to `secret` at `now`: the secret it had (if any)
 * becomes its previous one until `now + graceSeconds` (none with a grace of 0); a previous secret still
 * overlapping from an earlier rotation is dropped: a webhook holds two secrets at most. Pure.
 */
export function planRotation(
  webhooks: readonly StoredWebhook[],
  webhookId: string,
  secret: string,
  now: Date,
  graceSeconds: number,
): RotationPlan {
  if (!webhooks.some((w) => w.id === webhookId)) return { ok: false, reason: "webhook_not_found" };
  return {
    ok: true,
    webhooks: webhooks.map((w) => {
      if (w.id !== webhookId) return w;
      const { previous_signing_secret: _dropped, ...rest } = w;
      const old = w.signing_secret;
      if (old === undefined || graceSeconds <= 0) return { ...rest, signing_secret: secret };
      const until = new Date(now.getTime() + graceSeconds * 1000).toISOString();
      return { ...rest, signing_secret: secret, previous_signing_secret: { secret: old, until } };
    }),
  };
}

export interface RotateInput {
  readonly tenantId: string;
  readonly ruleId: string;
  readonly webhookId: string;
  /** The new `whsec_` secret. */
  readonly secret: string;
  readonly graceSeconds: number;
  readonly now: Date;
  readonly quotas?: RuleQuotas | undefined;
}

export type RotateResult =
  | { readonly ok: true; readonly record: RuleRecord }
  | { readonly ok: false; readonly reason: "webhook_not_found" }
  | Exclude<SaveRuleResult, { readonly ok: true }>;

/** Rotates a webhook's secret: a new version of its rule, saved against the version it was planned on. */
export async function rotateSigningSecret(db: Database, input: RotateInput): Promise<RotateResult> {
  const current = await getRule(db, input.tenantId, input.ruleId);
  if (current === undefined) return { ok: false, reason: "not_found" };
  const plan = planRotation(current.rule.webhooks, input.webhookId, input.secret, input.now, input.graceSeconds);
  if (!plan.ok) return plan;
  const rule: StoredRule = { ...current.rule, webhooks: plan.webhooks };
  const saved = await saveRule(db, {
    tenantId: input.tenantId,
    // The stored webhooks with their ids; the previous secret rides along for the store to keep.
    rule,
    mode: "update",
    expectedVersion: current.version,
    quotas: input.quotas,
  });
  return saved.ok ? { ok: true, record: saved.record } : saved;
}
