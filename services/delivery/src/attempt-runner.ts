import type { ClaimedDelivery } from "@runhooks/db";
import type { Logger } from "@runhooks/telemetry";
import type { AttemptObserver } from "./attempt-observer.js";
import type { AttemptResult } from "./attempt-result.js";
import type { AttemptSender } from "./attempt-sender.js";
import { settleAttempt, unsendableAttempt } from "./finished-attempt.js";
import { HttpThreadStoppedError } from "./http-thread.js";
import type { Job } from "./jobs.js";
import type { WindowBody } from "./payload-cache.js";
import type { RetryPolicy } from "./policy.js";
import type { Finished, Recorder } from "./recorder.js";
import type { Target } from "./target.js";
import { attemptTraceparent } from "./traceparent.js";

export interface AttemptRunnerOptions {
  readonly sender: AttemptSender;
  readonly recorder: Recorder;
  readonly policy: RetryPolicy;
  readonly observer: AttemptObserver;
  readonly log: Logger;
}

/**
 * Makes one attempt of a job and hands what it came to to the recorder. A job whose webhook or body is
 * gone from the store fails at once (nothing can be sent, ever); any other is sent, observed (span,
 * metrics) and settled by the policy (finished-attempt.ts).
 */
export function createAttemptRunner(o: AttemptRunnerOptions): (job: Job) => Promise<void> {
  async function send(
    d: ClaimedDelivery,
    target: Target,
    { body, chunkIndex, chunkCount, backfillId }: WindowBody,
    startedAt: Date,
  ): Promise<Finished> {
    const t0 = performance.now();
    const observed = o.observer.start(d, target);
    const result = await o.sender
      .send({
        target,
        deliveryId: d.id,
        attempt: d.attempt,
        timestampSeconds: Math.floor(startedAt.getTime() / 1000),
        traceparent: observed.traceparent ?? attemptTraceparent(d.traceId),
        chunkIndex,
        chunkCount,
        backfillId,
        body,
      })
      .catch((error: unknown): AttemptResult => {
        // The HTTP thread stopped under the attempt: whether the endpoint got it is unknown.
        if (error instanceof HttpThreadStoppedError)
          return { kind: "interrupted", error: `interrupted: ${error.message}; sent again` };
        throw error;
      });
    const durationMs = performance.now() - t0;
    const { finished, decision } = settleAttempt({
      delivery: d,
      startedAt,
      durationMs,
      result,
      endedAt: Date.now(),
      policy: o.policy,
      schedule: target.schedule,
    });
    observed.end(finished, body);
    if (finished.outcome !== "success") {
      o.log("debug", "attempt failed", {
        deliveryId: d.id,
        attempt: d.attempt,
        url: d.url,
        outcome: finished.outcome,
        decision: decision.kind,
      });
    }
    return finished;
  }

  return async function run(job) {
    const startedAt = new Date();
    const { delivery, target, body } = job;
    const finished =
      target === undefined || body === undefined
        ? unsendableAttempt(delivery, startedAt, target === undefined ? "webhook" : "body")
        : await send(delivery, target, body, startedAt);
    o.recorder.add(finished);
  };
}
