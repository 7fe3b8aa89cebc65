/**
 * Per-tenant quotas on rule writes (docs/limits.md): how many live rules a tenant may have, and how
 * many rule versions it may write in any minute. Pure decisions of their inputs (time passed in); the
 * store gathers the inputs inside the write's transaction, under a per-tenant lock.
 */

export interface RuleQuotas {
  /** Live (not deleted) rules per tenant. */
  readonly maxRulesPerTenant: number;
  /**
   * Rule versions per tenant in any 60 s: creations, updates, enables, disables and deletions — each
   * is a message on the rules topic that every evaluator applies.
   */
  readonly maxVersionsPerMinute: number;
}

/** The window of the versions-per-minute quota. */
export const VERSION_RATE_WINDOW_MS = 60_000;

export type QuotaRefusal =
  | { readonly quota: "rules_per_tenant"; readonly limit: number; readonly current: number }
  | {
      readonly quota: "rule_versions_per_minute";
      readonly limit: number;
      readonly current: number;
      /** When the oldest counted version leaves the window, so one more fits. */
      readonly retryAfterMs: number;
    };

/**
 * Whether a write that makes a new live rule (a creation, or an id used again after its deletion) fits:
 * the tenant must have fewer than `limit` live rules. Writes to a live rule never change the count.
 */
export function decideRuleCount(input: {
  readonly liveRules: number;
  readonly limit: number;
}): QuotaRefusal | undefined {
  return input.liveRules < input.limit
    ? undefined
    : { quota: "rules_per_tenant", limit: input.limit, current: input.liveRules };
}

/**
 * Whether one more rule version fits in the sliding minute. `recentVersions` counts the tenant's
 * versions less than a minute old, at most `limit` of them (the newest); `oldestCounted` is the
 * oldest of those. Refused when there are `limit`; one more fits once that oldest is a minute old.
 */
export function decideVersionRate(input: {
  readonly recentVersions: number;
  readonly oldestCounted: Date | null;
  readonly now: Date;
  readonly limit: number;
}): QuotaRefusal | undefined {
  if (input.recentVersions < input.limit || input.oldestCounted === null) return undefined;
  return {
    quota: "rule_versions_per_minute",
    limit: input.limit,
    current: input.recentVersions,
    retryAfterMs: Math.max(1, input.oldestCounted.getTime() + VERSION_RATE_WINDOW_MS - input.now.getTime()),
  };
}
