import { describe, expect, it } from "vitest";
import { WebhookRetry, type AttemptOutcome } from "@runhooks/contracts";
import type { Decision } from "../src/policy.js";
import {
  STANDARD_SCHEDULE_MS,
  decideScheduled,
  parseRetryAfter,
  schedulePolicyOf,
  scheduledDelayMs,
  type SchedulePolicy,
} from "../src/schedule-policy.js";

const NOW = Date.parse("2024-04-05T01:28:54.000Z");
const ID = "6f1c2b9e-4d7a-5e3b-9c1f-2a8d7e6b5c4a";
const explicit = (o: object = {}): SchedulePolicy =>
  schedulePolicyOf(WebhookRetry.parse({ schedule: [1, 10, 60], ...o }));

describe("the retry schedule decision table", () => {
  // [outcome, status, attempt within the round, Retry-After ms, policy options, expected]
  const table: [AttemptOutcome, number | null, number, number | undefined, object, Decision][] = [
    ["success", 200, 1, undefined, {}, { kind: "succeeded" }],
    ["success", 204, 4, undefined, {}, { kind: "succeeded" }],
    // Failures to connect, timeouts and 5xx follow the schedule, then fail.
    ["connect_error", null, 1, undefined, {}, { kind: "retry", retry: 1, at: NOW + 1_000 }],
    ["timeout", null, 2, undefined, {}, { kind: "retry", retry: 2, at: NOW + 10_000 }],
    ["http_5xx", 503, 3, undefined, {}, { kind: "retry", retry: 3, at: NOW + 60_000 }],
    ["http_5xx", 500, 4, undefined, {}, { kind: "failed", reason: "retries_exhausted" }],
    // 408, 425, 429 retry unless retry_throttled is false; other 4xx never.
    ["http_4xx", 429, 1, undefined, {}, { kind: "retry", retry: 1, at: NOW + 1_000 }],
    ["http_4xx", 408, 1, undefined, {}, { kind: "retry", retry: 1, at: NOW + 1_000 }],
    ["http_4xx", 425, 1, undefined, {}, { kind: "retry", retry: 1, at: NOW + 1_000 }],
    ["http_4xx", 429, 1, undefined, { retry_throttled: false }, { kind: "failed", reason: "not_retriable" }],
    ["http_4xx", 404, 1, undefined, {}, { kind: "failed", reason: "not_retriable" }],
    ["http_4xx", 410, 1, undefined, {}, { kind: "failed", reason: "not_retriable" }],
    ["http_3xx", 301, 1, undefined, {}, { kind: "failed", reason: "not_retriable" }],
    ["ssrf_blocked", null, 1, undefined, {}, { kind: "failed", reason: "not_retriable" }],
    ["invalid_response", null, 1, undefined, {}, { kind: "failed", reason: "not_retriable" }],
    ["request_failed", null, 1, undefined, {}, { kind: "failed", reason: "not_retriable" }],
    // Runhooks' fault: sent again now, the same retry again.
    ["interrupted", null, 3, undefined, {}, { kind: "retry", retry: 2, at: NOW }],
    // Retry-After lengthens a wait, capped at the longest delay (60 s); it never shortens one.
    ["http_4xx", 429, 1, 30_000, {}, { kind: "retry", retry: 1, at: NOW + 30_000 }],
    ["http_5xx", 503, 1, 3_600_000, {}, { kind: "retry", retry: 1, at: NOW + 60_000 }],
    ["http_5xx", 503, 2, 500, {}, { kind: "retry", retry: 2, at: NOW + 10_000 }],
    ["http_4xx", 429, 1, 30_000, { honor_retry_after: false }, { kind: "retry", retry: 1, at: NOW + 1_000 }],
  ];

  it.each(table)(
    "%s %s on attempt %i, Retry-After %s, %o → %o",
    (outcome, statusCode, roundAttempt, retryAfterMs, o, expected) => {
      expect(
        decideScheduled({ outcome, statusCode, roundAttempt, now: NOW, retryAfterMs, deliveryId: ID }, explicit(o)),
      ).toEqual(expected);
    },
  );

  it("the standard schedule waits 5 s … 10 h, each within ±10%, the same for the same delivery", () => {
    const standard = schedulePolicyOf(WebhookRetry.parse({ schedule: "standard" }));
    expect(standard.delaysMs).toEqual(STANDARD_SCHEDULE_MS);
    for (let retry = 1; retry <= 7; retry++) {
      const base = STANDARD_SCHEDULE_MS[retry - 1]!;
      const wait = scheduledDelayMs(standard, retry, ID);
      expect(wait).toBeGreaterThanOrEqual(base * 0.9);
      expect(wait).toBeLessThanOrEqual(base * 1.1);
      expect(scheduledDelayMs(standard, retry, ID)).toBe(wait);
    }
    const d = decideScheduled(
      { outcome: "http_5xx", statusCode: 500, roundAttempt: 8, now: NOW, retryAfterMs: undefined, deliveryId: ID },
      standard,
    );
    expect(d).toEqual({ kind: "failed", reason: "retries_exhausted" });
  });

  it("jitter spreads deliveries apart: different ids wait differently", () => {
    const standard = schedulePolicyOf(WebhookRetry.parse({ schedule: "standard" }));
    const waits = new Set(["a", "b", "c", "d", "e"].map((id) => scheduledDelayMs(standard, 2, id)));
    expect(waits.size).toBeGreaterThan(1);
  });

  it("an explicit schedule is exact (no jitter)", () => {
    expect(explicit().jitter).toBe(false);
    expect(scheduledDelayMs(explicit(), 2, ID)).toBe(10_000);
  });

  it.each([
    ["120", 120_000],
    [" 0 ", 0],
    ["Fri, 05 Apr 2024 01:29:54 GMT", 60_000],
    ["Fri, 05 Apr 2024 01:00:00 GMT", 0],
    ["soon", undefined],
    ["-5", undefined],
    ["1.5", undefined],
  ] as const)("Retry-After %j is %s ms", (value, ms) => {
    expect(parseRetryAfter(value, NOW)).toBe(ms);
  });

  it.each([
    [{ schedule: [] }, "schedule"],
    [{ schedule: [-1] }, "schedule.0"],
    [{ schedule: [86_401] }, "schedule.0"],
    [{ schedule: "fast" }, "schedule"],
    [{ schedule: "standard", extra: 1 }, ""],
  ])("refuses %o", (value, path) => {
    const r = WebhookRetry.safeParse(value);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join("."))).toContain(path);
  });
});
