import { describe, expect, it } from "vitest";
import { ApiEnv } from "@runhooks/api";
import { apiLimitsFromEnv } from "../src/options.js";
import { DEFAULT_API_LIMITS } from "../src/limits.js";
import { describeQuotaRefusal } from "../src/http/quotas.js";

const base = { DATABASE_URL: "postgres://u:p@127.0.0.1:5432/db", KAFKA_BROKERS: "127.0.0.1:9092" };

describe("the API's quotas", () => {
  it("have documented defaults", () => {
    expect(apiLimitsFromEnv(ApiEnv.parse(base))).toEqual(DEFAULT_API_LIMITS);
    expect(DEFAULT_API_LIMITS).toEqual({
      rules: { maxRulesPerTenant: 1000, maxVersionsPerMinute: 120 },
      maxReplayRangeMs: 7 * 24 * 3_600_000,
    });
  });

  it("are read from the environment", () => {
    const env = ApiEnv.parse({
      ...base,
      RUNHOOKS_API_MAX_RULES_PER_TENANT: "50",
      RUNHOOKS_API_MAX_RULE_VERSIONS_PER_MINUTE: "10",
      RUNHOOKS_API_MAX_REPLAY_HOURS: "24",
    });
    expect(apiLimitsFromEnv(env)).toEqual({
      rules: { maxRulesPerTenant: 50, maxVersionsPerMinute: 10 },
      maxReplayRangeMs: 24 * 3_600_000,
    });
  });

  it.each([
    ["RUNHOOKS_API_MAX_RULES_PER_TENANT", "0"],
    ["RUNHOOKS_API_MAX_RULES_PER_TENANT", "many"],
    ["RUNHOOKS_API_MAX_RULE_VERSIONS_PER_MINUTE", "-1"],
    ["RUNHOOKS_API_MAX_REPLAY_HOURS", "1.5"],
  ])("refuse %s=%s", (name, value) => {
    expect(ApiEnv.safeParse({ ...base, [name]: value }).success).toBe(false);
  });

  it.each([
    [
      { quota: "rules_per_tenant", limit: 1000, current: 1000 } as const,
      {
        status: 403,
        message:
          "the tenant has 1000 rules; the limit is 1000 per tenant (RUNHOOKS_API_MAX_RULES_PER_TENANT): delete rules it no longer needs, or ask the operator to raise the limit",
      },
    ],
    [
      { quota: "rule_versions_per_minute", limit: 120, current: 120, retryAfterMs: 12_300 } as const,
      {
        status: 429,
        retryAfterS: 13,
        message:
          "the tenant wrote 120 rule versions in the last minute; the limit is 120 per minute (RUNHOOKS_API_MAX_RULE_VERSIONS_PER_MINUTE): retry in 13 s",
      },
    ],
  ])("answer %j with a status and a message naming the quota, the figures and the variable", (refusal, expected) => {
    expect(describeQuotaRefusal(refusal)).toEqual(expected);
  });
});
