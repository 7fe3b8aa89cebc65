import { describe, expect, it } from "vitest";
import type { ClaimedDelivery } from "@runhooks/db";
import type { AttemptResult } from "../src/attempt-result.js";
import { nextStep, settleAttempt, unsendableAttempt } from "../src/finished-attempt.js";
import { LANGSMITH_POLICY, type Decision } from "../src/policy.js";

const NOW = Date.parse("2024-04-05T01:28:54.000Z");
const STARTED = new Date(NOW - 120);

const delivery = (roundAttempt: number): ClaimedDelivery => ({
  id: "d",
  windowId: "w",
  webhookId: "h",
  tenantId: "t",
  ruleId: "r",
  ruleVersion: 3,
  url: "https://example.com/hook?token=***",
  origin: "https://example.com",
  traceId: "0af7651916cd43dd8448eb211c80319c",
  attempt: roundAttempt + 1,
  roundAttempt,
  trigger: "scheduled",
});

describe("decision → the delivery's next status", () => {
  it.each<[Decision, ReturnType<typeof nextStep>]>([
    [{ kind: "succeeded" }, { nextStatus: "succeeded", nextAttemptAt: null }],
    [
      { kind: "failed", reason: "not_retriable" },
      { nextStatus: "failed", nextAttemptAt: null },
    ],
    [
      { kind: "failed", reason: "retries_exhausted" },
      { nextStatus: "failed", nextAttemptAt: null },
    ],
    [
      { kind: "retry", at: NOW + 1000, retry: 1 },
      { nextStatus: "pending", nextAttemptAt: new Date(NOW + 1000) },
    ],
    [
      { kind: "retry", at: NOW, retry: 0 },
      { nextStatus: "pending", nextAttemptAt: new Date(NOW) },
    ],
  ])("%o → %o", (decision, step) => {
    expect(nextStep(decision)).toEqual(step);
  });
});

describe("an attempt sent, as recorded", () => {
  it.each<[string, AttemptResult, number, Record<string, unknown>]>([
    [
      "a 2xx succeeds",
      { kind: "response", statusCode: 204, excerpt: null },
      1,
      {
        outcome: "success",
        statusCode: 204,
        error: null,
        responseExcerpt: null,
        nextStatus: "succeeded",
        nextAttemptAt: null,
      },
    ],
    [
      "a first 5xx is retried in 1 s, its excerpt kept",
      { kind: "response", statusCode: 503, excerpt: "busy" },
      1,
      {
        outcome: "http_5xx",
        statusCode: 503,
        error: null,
        responseExcerpt: "busy",
        nextStatus: "pending",
        nextAttemptAt: new Date(NOW + 1000),
      },
    ],
    [
      "a third 5xx fails",
      { kind: "response", statusCode: 500, excerpt: null },
      3,
      { outcome: "http_5xx", nextStatus: "failed", nextAttemptAt: null },
    ],
    [
      "a status outside 100–599 is not recorded",
      { kind: "response", statusCode: 700, excerpt: null },
      1,
      { outcome: "http_5xx", statusCode: null, nextStatus: "pending" },
    ],
    [
      "a connect error is retried, its error kept",
      { kind: "connect_error", error: "ECONNREFUSED" },
      2,
      {
        outcome: "connect_error",
        statusCode: null,
        error: "ECONNREFUSED",
        nextStatus: "pending",
        nextAttemptAt: new Date(NOW + 2000),
      },
    ],
    [
      "a timeout fails",
      { kind: "timeout", error: "no response in 5 s" },
      1,
      { outcome: "timeout", error: "no response in 5 s", nextStatus: "failed", nextAttemptAt: null },
    ],
    [
      "an interrupted attempt is sent again now",
      { kind: "interrupted", error: "interrupted" },
      3,
      { outcome: "interrupted", nextStatus: "pending", nextAttemptAt: new Date(NOW) },
    ],
  ])("%s", (_name, result, roundAttempt, expected) => {
    const { finished, decision } = settleAttempt({
      delivery: delivery(roundAttempt),
      startedAt: STARTED,
      durationMs: 120,
      result,
      endedAt: NOW,
      policy: LANGSMITH_POLICY,
    });
    expect(finished).toMatchObject({
      deliveryId: "d",
      windowId: "w",
      webhookId: "h",
      ruleId: "r",
      attempt: roundAttempt + 1,
      startedAt: STARTED,
      durationMs: 120,
      ...expected,
    });
    expect(finished.nextStatus).toBe(decision.kind === "retry" ? "pending" : decision.kind);
  });
});

describe("an attempt that cannot be made", () => {
  it.each([
    ["webhook", "the webhook is no longer in the store"],
    ["body", "the window's body is no longer in the store"],
  ] as const)("without its %s: failed, “%s”", (missing, error) => {
    expect(unsendableAttempt(delivery(1), STARTED, missing)).toMatchObject({
      outcome: "request_failed",
      statusCode: null,
      error,
      durationMs: 0,
      nextStatus: "failed",
      nextAttemptAt: null,
    });
  });
});
