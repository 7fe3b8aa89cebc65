import { describe, expect, it } from "vitest";
import type { AttemptOutcome } from "@runhooks/contracts";
import { LANGSMITH_POLICY, backoffMs, decide, type Decision } from "../src/policy.js";
import { outcomeOfStatus } from "../src/attempt-result.js";

const NOW = Date.parse("2024-04-05T01:28:54.000Z");

describe("the delivery decision table (seed policy)", () => {
  // [outcome, attempt number within the round, expected decision]
  const table: [AttemptOutcome, number, Decision][] = [
    ["success", 1, { kind: "succeeded" }],
    ["success", 3, { kind: "succeeded" }],
    // Could not connect: retry, at most 2 retries, with backoff 1 s then 2 s.
    ["connect_error", 1, { kind: "retry", retry: 1, at: NOW + 1000 }],
    ["connect_error", 2, { kind: "retry", retry: 2, at: NOW + 2000 }],
    ["connect_error", 3, { kind: "failed", reason: "retries_exhausted" }],
    // Runhooks could not judge the attempt (a stall, a dead HTTP thread): sent again at once, the same
    // retry again (the attempt does not count in the round), however late in the round.
    ["interrupted", 1, { kind: "retry", retry: 0, at: NOW }],
    ["interrupted", 3, { kind: "retry", retry: 2, at: NOW }],
    // No complete response in 5 s: failed, no retry.
    ["timeout", 1, { kind: "failed", reason: "not_retriable" }],
    ["timeout", 2, { kind: "failed", reason: "not_retriable" }],
    // 5xx within 5 s: exponential backoff, at most 2 retries.
    ["http_5xx", 1, { kind: "retry", retry: 1, at: NOW + 1000 }],
    ["http_5xx", 2, { kind: "retry", retry: 2, at: NOW + 2000 }],
    ["http_5xx", 3, { kind: "failed", reason: "retries_exhausted" }],
    // 4xx and 3xx: failed, no retry.
    ["http_4xx", 1, { kind: "failed", reason: "not_retriable" }],
    ["http_3xx", 1, { kind: "failed", reason: "not_retriable" }],
    // SSRF-blocked: failed, no retry.
    ["ssrf_blocked", 1, { kind: "failed", reason: "not_retriable" }],
    ["response_too_large", 1, { kind: "failed", reason: "not_retriable" }],
  ];

  it.each(table)("%s on attempt %i → %o", (outcome, attempt, expected) => {
    expect(decide(outcome, attempt, NOW)).toEqual(expected);
  });

  it("counts the retries of a round together, whatever mix of connect errors and 5xx", () => {
    expect(decide("http_5xx", 2, NOW).kind).toBe("retry"); // after a connect error
    expect(decide("connect_error", 3, NOW)).toEqual({ kind: "failed", reason: "retries_exhausted" }); // after two 5xx
  });

  it("makes 3 attempts at most for a 5xx endpoint, with doubling waits", () => {
    let at = NOW;
    const waits: number[] = [];
    for (let attempt = 1; ; attempt++) {
      const d = decide("http_5xx", attempt, at);
      if (d.kind !== "retry") {
        expect(attempt).toBe(3);
        break;
      }
      waits.push(d.at - at);
      at = d.at;
    }
    expect(waits).toEqual([1000, 2000]);
  });

  it("honours overrides", () => {
    const policy = { connectRetries: 0, serverErrorRetries: 4, backoffBaseMs: 250 };
    expect(decide("connect_error", 1, NOW, policy)).toEqual({ kind: "failed", reason: "retries_exhausted" });
    expect(decide("http_5xx", 4, NOW, policy)).toEqual({ kind: "retry", retry: 4, at: NOW + 2000 });
    expect(decide("http_5xx", 5, NOW, policy).kind).toBe("failed");
    expect(backoffMs(3, LANGSMITH_POLICY)).toBe(4000);
  });

  it.each([
    [200, "success"],
    [204, "success"],
    [299, "success"],
    [301, "http_3xx"],
    [308, "http_3xx"],
    [400, "http_4xx"],
    [404, "http_4xx"],
    [429, "http_4xx"],
    [500, "http_5xx"],
    [503, "http_5xx"],
    [599, "http_5xx"],
    [600, "http_5xx"],
  ] as const)("status %i is %s", (status, outcome) => {
    expect(outcomeOfStatus(status)).toBe(outcome);
  });
});
