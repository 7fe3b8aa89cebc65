import type { RuleQuotas } from "@runhooks/db";

/** The API's per-tenant quotas (docs/limits.md); each is set by the variable LIMIT_VARIABLES names. */
export interface ApiLimits {
  readonly rules: RuleQuotas;
  /** Longest `[from, to)` one `POST /rules/:id/replay` may cover. */
  readonly maxReplayRangeMs: number;
}

export const HOUR_MS = 3_600_000;

/** The defaults, as env.ts documents them. */
export const DEFAULT_API_LIMITS: ApiLimits = {
  rules: { maxRulesPerTenant: 1000, maxVersionsPerMinute: 120 },
  maxReplayRangeMs: 7 * 24 * HOUR_MS,
};

export const LIMIT_VARIABLES = {
  rules_per_tenant: "RUNHOOKS_API_MAX_RULES_PER_TENANT",
  rule_versions_per_minute: "RUNHOOKS_API_MAX_RULE_VERSIONS_PER_MINUTE",
  replay_range: "RUNHOOKS_API_MAX_REPLAY_HOURS",
} as const;
