import { createHash } from "node:crypto";
import type { AttemptOutcome, WebhookRetry } from "@runhooks/contracts";
import type { Decision } from "./policy.js";

/**
 * The opt-in retry schedules of a webhook (`retry` in the rule format; DESIGN.md §5). Pure: time and
 * the delivery id are passed in, so a replay of the same delivery decides the same.
 *
 * | outcome                                   | action                                              |
 * |-------------------------------------------|-----------------------------------------------------|
 * | success (2xx)                             | succeeded                                           |
 * | connect_error, timeout, http_5xx          | retry after the schedule's next delay               |
 * | http_4xx 408, 425, 429                    | retry as above if `retry_throttled` (default), else failed |
 * | any other http_4xx, http_3xx              | failed, no retry                                    |
 * | ssrf_blocked, invalid_response, request_failed | failed, no retry                               |
 * | interrupted                               | sent again now, not counted (as in the default)     |
 *
 * The n-th retry waits the schedule's n-th delay (with ±10% jitter for `"standard"`); past the last
 * delay the delivery has failed (`retries_exhausted`). A `Retry-After` answer lengthens the wait to
 * what it asks, capped at the schedule's longest delay; it never shortens it.
 */
export interface SchedulePolicy {
  /** Delay of each retry after the attempt before it (ms), before jitter. */
  readonly delaysMs: readonly number[];
  /** ±10% of each delay, derived from the delivery id and the retry number. */
  readonly jitter: boolean;
  /** Whether 408, 425 and 429 are retried. */
  readonly retryThrottled: boolean;
  readonly honorRetryAfter: boolean;
}

/** Standard Webhooks' suggested schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const STANDARD_SCHEDULE_MS: readonly number[] = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];

/** Jitter as a fraction of the delay: a retry waits between 90% and 110% of its scheduled delay. */
export const JITTER_FRACTION = 0.1;

/** Statuses that ask the client to come back later rather than report a fault: Request Timeout, Too Early, Too Many Requests. */
export const THROTTLE_STATUSES: ReadonlySet<number> = new Set([408, 425, 429]);

export function schedulePolicyOf(retry: WebhookRetry): SchedulePolicy {
  const standard = retry.schedule === "standard";
  return {
    delaysMs: standard ? STANDARD_SCHEDULE_MS : (retry.schedule as number[]).map((s) => Math.round(s * 1000)),
    jitter: standard,
    retryThrottled: retry.retry_throttled,
    honorRetryAfter: retry.honor_retry_after,
  };
}

/** What the schedule decides from: one attempt's facts. */
export interface ScheduledAttempt {
  readonly outcome: AttemptOutcome;
  /** The response's status, when there was one. */
  readonly statusCode: number | null;
  /** The attempt's number within its round (1 for the first). */
  readonly roundAttempt: number;
  /** When it ended (ms since the epoch). */
  readonly now: number;
  /** What the response's `Retry-After` asked for (ms from `now`), if it had one. */
  readonly retryAfterMs: number | undefined;
  readonly deliveryId: string;
}

export function isScheduleRetriable(outcome: AttemptOutcome, statusCode: number | null, p: SchedulePolicy): boolean {
  switch (outcome) {
    case "connect_error":
    case "timeout":
    case "http_5xx":
      return true;
    case "http_4xx":
      return p.retryThrottled && statusCode !== null && THROTTLE_STATUSES.has(statusCode);
    case "success":
    case "http_3xx":
    case "ssrf_blocked":
    case "response_too_large":
    case "invalid_response":
    case "request_failed":
    case "interrupted":
      return false;
  }
}

/** A number in [0, 1) fixed by the delivery id and the retry number. */
export function jitterUnit(deliveryId: string, retry: number): number {
  return createHash("sha256").update(`${deliveryId}/${retry}`).digest().readUInt32BE(0) / 2 ** 32;
}

/** The wait before retry number `retry` (1-based) of this delivery, before any Retry-After. */
export function scheduledDelayMs(p: SchedulePolicy, retry: number, deliveryId: string): number {
  const base = p.delaysMs[retry - 1]!;
  if (!p.jitter) return base;
  return Math.round(base * (1 - JITTER_FRACTION + 2 * JITTER_FRACTION * jitterUnit(deliveryId, retry)));
}

export function decideScheduled(a: ScheduledAttempt, p: SchedulePolicy): Decision {
  if (a.outcome === "success") return { kind: "succeeded" };
  if (a.outcome === "interrupted") return { kind: "retry", at: a.now, retry: a.roundAttempt - 1 };
  if (!isScheduleRetriable(a.outcome, a.statusCode, p)) return { kind: "failed", reason: "not_retriable" };
  const retry = a.roundAttempt;
  if (retry > p.delaysMs.length) return { kind: "failed", reason: "retries_exhausted" };
  let wait = scheduledDelayMs(p, retry, a.deliveryId);
  if (p.honorRetryAfter && a.retryAfterMs !== undefined) {
    wait = Math.max(wait, Math.min(a.retryAfterMs, Math.max(...p.delaysMs)));
  }
  return { kind: "retry", at: a.now + wait, retry };
}

/**
 * A `Retry-After` value in ms from `now`: delta-seconds, or an HTTP date (RFC 9110 §10.2.3); undefined
 * when it is neither. A date in the past is 0.
 */
export function parseRetryAfter(value: string, now: number): number | undefined {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
