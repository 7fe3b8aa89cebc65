import type { ClaimedDelivery } from "@runhooks/db";
import { errorOf, outcomeOf, recordedStatus, type AttemptResult } from "./attempt-result.js";
import { decide, type Decision, type RetryPolicy } from "./policy.js";
import { decideScheduled, type SchedulePolicy } from "./schedule-policy.js";
import type { Finished } from "./recorder.js";

/**
 * What an attempt comes to, as the recorder writes it: its facts, its outcome, and the delivery's next
 * status by the policy's decision. Pure: the times are passed in.
 */

/** The delivery's next status and when it is due, by a decision of the policy. */
export function nextStep(decision: Decision): Pick<Finished, "nextStatus" | "nextAttemptAt"> {
  return decision.kind === "retry"
    ? { nextStatus: "pending", nextAttemptAt: new Date(decision.at) }
    : { nextStatus: decision.kind, nextAttemptAt: null };
}

/** What the store no longer has to send a delivery: its webhook (the rule version) or its window's body. */
export type MissingPart = "webhook" | "body";

/** An attempt that could not be made, ever: what it needs is gone from the store. */
export function unsendableAttempt(d: ClaimedDelivery, startedAt: Date, missing: MissingPart): Finished {
  return {
    ...factsOf(d, startedAt, 0),
    outcome: "request_failed",
    statusCode: null,
    error:
      missing === "webhook" ? "the webhook is no longer in the store" : "the window's body is no longer in the store",
    responseExcerpt: null,
    nextStatus: "failed",
    nextAttemptAt: null,
  };
}

export interface SentAttempt {
  readonly delivery: ClaimedDelivery;
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly result: AttemptResult;
  /** When it ended (ms since the epoch): a retry's backoff counts from here. */
  readonly endedAt: number;
  readonly policy: RetryPolicy;
  /** The webhook's own schedule, which replaces `policy` when it has one. */
  readonly schedule?: SchedulePolicy | undefined;
}

/** An attempt that was sent: its outcome, the policy's decision and the record that carries both. */
export function settleAttempt(a: SentAttempt): { readonly finished: Finished; readonly decision: Decision } {
  const outcome = outcomeOf(a.result);
  const decision =
    a.schedule === undefined
      ? decide(outcome, a.delivery.roundAttempt, a.endedAt, a.policy)
      : decideScheduled(
          {
            outcome,
            statusCode: recordedStatus(a.result),
            roundAttempt: a.delivery.roundAttempt,
            now: a.endedAt,
            retryAfterMs: a.result.kind === "response" ? a.result.retryAfterMs : undefined,
            deliveryId: a.delivery.id,
          },
          a.schedule,
        );
  const finished: Finished = {
    ...factsOf(a.delivery, a.startedAt, a.durationMs),
    outcome,
    statusCode: recordedStatus(a.result),
    error: errorOf(a.result),
    responseExcerpt: a.result.kind === "response" ? a.result.excerpt : null,
    ...nextStep(decision),
    ...(decision.kind === "failed" ? { reason: decision.reason } : {}),
  };
  return { finished, decision };
}

function factsOf(d: ClaimedDelivery, startedAt: Date, durationMs: number) {
  return {
    deliveryId: d.id,
    windowId: d.windowId,
    tenantId: d.tenantId,
    ruleId: d.ruleId,
    webhookId: d.webhookId,
    url: d.url,
    attempt: d.attempt,
    trigger: d.trigger,
    startedAt,
    durationMs,
  };
}
