import type { RuleVersion } from "@runhooks/contracts";

/** A rule version of `tenant` numbered `n` (its id ends in n), enabled, sampling every run. */
export function ruleVersion(tenant: string, n: number, filter: unknown, extra: Partial<RuleVersion> = {}): RuleVersion {
  return {
    schema_version: 1,
    kind: "rule",
    rule_id: `00000000-0000-4000-8000-00000000000${n}`,
    version: 1,
    tenant_id: tenant,
    session_id: null,
    enabled: true,
    filter: filter as RuleVersion["filter"],
    sampling_rate: 1,
    window: { seconds: 5, max_runs: 100 },
    ...extra,
  };
}
