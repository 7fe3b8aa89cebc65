import type { AttemptOutcome } from "@runhooks/contracts";

/**
 * The delivery policy: what happens after an attempt. Pure; time is passed in. The defaults are
 * LangSmith's "Webhook Delivery" policy exactly:
 *
 * | outcome         | action                                                  |
 * |-----------------|---------------------------------------------------------|
 * | success (2xx)   | succeeded                                               |
 * | connect_error   | retry, at most 2 retries (backoff as below)             |
 * | timeout (5 s)   | failed, no retry                                        |
 * | http_5xx        | retry with exponential backoff, at most 2 retries       |
 * | http_4xx        | failed, no retry                                        |
 * | http_3xx        | failed, no retry (redirects are never followed)         |
 * | ssrf_blocked    | failed, no retry                                        |
 * | invalid_response| failed, no retry (the endpoint answered, not in HTTP)   |
 * | request_failed  | failed, no retry (not a reason to believe a retry helps)|
 * | interrupted     | sent again now; not counted against the round (runhooks' fault) |
 *
 * Retries of a round are counted together: whatever mix of connect errors and 5xx, a round makes at
 * most 1 + max(retries) attempts. The n-th retry waits `backoffBaseMs * 2^(n-1)`: 1 s, then 2 s.
 */
export interface RetryPolicy {
  /** Retries after a failure to connect. Seed: 2. */
  readonly connectRetries: number;
  /** Retries after a 5xx. Seed: 2. */
  readonly serverErrorRetries: number;
  /** Wait before the first retry; doubled for each further one. Default 1 s. */
  readonly backoffBaseMs: number;
}

export const LANGSMITH_POLICY: RetryPolicy = { connectRetries: 2, serverErrorRetries: 2, backoffBaseMs: 1000 };

export type FailureReason = "not_retriable" | "retries_exhausted";

export type Decision =
  | { readonly kind: "succeeded" }
  | { readonly kind: "failed"; readonly reason: FailureReason }
  | { readonly kind: "retry"; readonly at: number; readonly retry: number };

/** How many retries this outcome allows; 0 means it is final. */
export function retriesAllowed(outcome: AttemptOutcome, policy: RetryPolicy): number {
  switch (outcome) {
    case "connect_error":
      return policy.connectRetries;
    case "http_5xx":
      return policy.serverErrorRetries;
    case "success":
    case "http_3xx":
    case "http_4xx":
    case "timeout":
    case "ssrf_blocked":
    case "response_too_large":
    case "invalid_response":
    case "request_failed":
    case "interrupted": // not the endpoint's doing: always sent again, never counted (see decide)
      return 0;
  }
}

export function isRetriable(outcome: AttemptOutcome): boolean {
  return outcome === "connect_error" || outcome === "http_5xx";
}

/** Delay before retry number `retry` (1-based). */
export function backoffMs(retry: number, policy: RetryPolicy): number {
  return policy.backoffBaseMs * 2 ** (retry - 1);
}

/**
 * @param roundAttempt the number of the attempt just made within its round (1 for the first attempt,
 *   or the first after a manual redelivery)
 * @param now when the attempt ended (ms since the epoch)
 */
export function decide(
  outcome: AttemptOutcome,
  roundAttempt: number,
  now: number,
  policy: RetryPolicy = LANGSMITH_POLICY,
): Decision {
  if (outcome === "success") return { kind: "succeeded" };
  // Runhooks' fault (the process stalled, or its HTTP thread stopped): sent again now, and the attempt
  // does not count in the round (its record gives it back), so this is the same retry again.
  if (outcome === "interrupted") return { kind: "retry", at: now, retry: roundAttempt - 1 };
  if (!isRetriable(outcome)) return { kind: "failed", reason: "not_retriable" };
  const retriesSoFar = roundAttempt - 1;
  if (retriesSoFar >= retriesAllowed(outcome, policy)) return { kind: "failed", reason: "retries_exhausted" };
  const retry = retriesSoFar + 1;
  return { kind: "retry", at: now + backoffMs(retry, policy), retry };
}
