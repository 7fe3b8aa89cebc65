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
    ["nothing written", [], 3, undefined],
    ["two in the minute, limit 3", [ago(1_000), ago(2_000)], 3, undefined],
    // The oldest of the newest three is 50 s old: one more fits in 10 s.
    ["three in the minute, limit 3", [ago(1_000), ago(2_000), ago(50_000)], 3, { current: 3, retryAfterMs: 10_000 }],
    ["order does not matter", [ago(50_000), ago(1_000), ago(2_000)], 3, { current: 3, retryAfterMs: 10_000 }],
    // More than the limit (a lowered limit): wait for the third newest to leave the window.
    ["five in the minute, limit 3", [ago(1_000), ago(2_000), ago(3_000), ago(40_000), ago(59_000)], 3, { current: 5, retryAfterMs: 57_000 }],
    ["a minute old no longer counts", [ago(1_000), ago(2_000), ago(60_000)], 3, undefined],
    ["older than a minute no longer counts", [ago(1_000), ago(2_000), ago(3_600_000)], 3, undefined],
    ["written this very millisecond", [now, now, now], 3, { current: 3, retryAfterMs: 60_000 }],
    // A version stamped after `now` (another transaction started later, committed first) counts.
    ["a version from a later transaction", [new Date(now.getTime() + 5), ago(1), ago(2)], 3, { current: 3, retryAfterMs: 59_998 }],
    ["limit 1, one 59.999 s old", [ago(59_999)], 1, { current: 1, retryAfterMs: 1 }],
  ] as const)("%s", (_name, recent, limit, expected) => {
    const decision = decideVersionRate({ recent, now, limit });
    if (expected === undefined) expect(decision).toBeUndefined();
    else expect(decision).toEqual({ quota: "rule_versions_per_minute", limit, ...expected });
  });
});
