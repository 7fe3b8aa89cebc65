import { describe, expect, it } from "vitest";
import { decideRuleCount, decideVersionRate } from "@runhooks/db";

describe("the rules-per-tenant quota", () => {
  it.each([
    [0, 1000, undefined],
    [999, 1000, undefined],
    [1000, 1000, { quota: "rules_per_tenant", limit: 1000, current: 1000 }],
    // Lowered below what a tenant already has: nothing new until it is under again.
    [1200, 1000, { quota: "rules_per_tenant", limit: 1000, current: 1200 }],
    [0, 1, undefined],
    [1, 1, { quota: "rules_per_tenant", limit: 1, current: 1 }],
  ] as const)("with %i live rules and a limit of %i: %j", (liveRules, limit, expected) => {
    expect(decideRuleCount({ liveRules, limit })).toEqual(expected);
  });
});

describe("the rule-versions-per-minute quota", () => {
  const now = new Date("2026-01-01T00:01:00.000Z");
  const ago = (ms: number) => new Date(now.getTime() - ms);

  it.each([
    ["nothing written", 0, null, 3, undefined],
    ["two in the minute, limit 3", 2, ago(2_000), 3, undefined],
    // The oldest of the newest three is 50 s old: one more fits in 10 s.
    ["three in the minute, limit 3", 3, ago(50_000), 3, { current: 3, retryAfterMs: 10_000 }],
    ["three written this very millisecond", 3, now, 3, { current: 3, retryAfterMs: 60_000 }],
    // Stamped after `now`: another transaction started later and committed first. It still counts.
    [
      "the oldest counted from a later transaction",
      3,
      new Date(now.getTime() + 5),
      3,
      { current: 3, retryAfterMs: 60_005 },
    ],
    ["limit 1, one 59.999 s old", 1, ago(59_999), 1, { current: 1, retryAfterMs: 1 }],
    // At the window's edge the store no longer counts it; the decision never asks to wait for nothing.
    ["limit 1, one exactly a minute old", 1, ago(60_000), 1, { current: 1, retryAfterMs: 1 }],
    ["limit 120, 119 in the minute", 119, ago(30_000), 120, undefined],
    ["limit 120, 120 in the minute", 120, ago(30_000), 120, { current: 120, retryAfterMs: 30_000 }],
  ] as const)("%s", (_name, recentVersions, oldestCounted, limit, expected) => {
    const decision = decideVersionRate({ recentVersions, oldestCounted, now, limit });
    if (expected === undefined) expect(decision).toBeUndefined();
    else expect(decision).toEqual({ quota: "rule_versions_per_minute", limit, ...expected });
  });
});
