import { claimDeliveries, windowPayloads, type ClaimedDelivery, type Database } from "@runhooks/db";
import { errorOf, outcomeOf, recordedStatus } from "./attempt-result.js";
import type { Counters } from "./counters.js";
import type { Logger } from "./log.js";
import type { PayloadCache } from "./payload-cache.js";
import { decide, type RetryPolicy } from "./policy.js";
import type { Finished, Recorder } from "./recorder.js";
import { attemptHeaders } from "./request-headers.js";
import type { Sender } from "./sender.js";
import type { Target } from "./target.js";
import { attemptTraceparent } from "./traceparent.js";
import type { WebhookCache } from "./webhook-cache.js";

export interface WorkersOptions {
  readonly db: Database;
  readonly sender: Sender;
  readonly recorder: Recorder;
  readonly webhooks: WebhookCache;
  readonly payloads: PayloadCache;
  readonly policy: RetryPolicy;
  /** Most attempts in flight in this process. */
  readonly concurrency: number;
  /** Most attempts in flight to one origin, so a slow endpoint cannot take every slot. */
  readonly originConcurrency: number;
  readonly leaseMs: number;
  /** How often to look for due deliveries when nothing wakes the workers. */
  readonly pollMs: number;
  readonly instanceId: string;
  readonly log: Logger;
  readonly counters: Counters;
  readonly onDatabase: (ok: boolean) => void;
}

export interface Workers {
  /** Look for due deliveries now (new ones were stored). */
  wake(): void;
  inFlight(): number;
  /** Stops claiming and waits for the attempts in flight to end (each ends by its deadline). */
  stop(): Promise<void>;
}

interface Job {
  readonly delivery: ClaimedDelivery;
  readonly target: Target | undefined;
  readonly body: Buffer | undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The worker pool: claims due deliveries from the Postgres queue and sends them, each origin with its
 * own concurrency limit. An origin at its limit is left out of claims altogether, so deliveries to
 * other endpoints are claimed and sent while a hanging one waits out its deadlines.
 */
export function startWorkers(o: WorkersOptions): Workers {
  let stopping = false;
  let inFlight = 0;
  const claimThreshold = Math.max(1, Math.min(64, Math.floor(o.concurrency / 8)));
  const perOrigin = new Map<string, number>();
  const idle = new Set<() => void>();
  const wake = () => {
    for (const resolve of idle) resolve();
    idle.clear();
  };
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        idle.delete(done);
        resolve();
      }, ms);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      idle.add(done);
    });

  async function prepare(claimed: readonly ClaimedDelivery[]): Promise<Job[]> {
    const missing = [...new Set(claimed.filter((d) => o.payloads.get(d.windowId) === undefined).map((d) => d.windowId))];
    const loaded = await windowPayloads(o.db, missing);
    for (const [windowId, payload] of loaded) o.payloads.set(windowId, Buffer.from(payload));
    const jobs: Job[] = [];
    for (const delivery of claimed) {
      const set = await o.webhooks.get(delivery.ruleId, delivery.ruleVersion);
      const body = o.payloads.get(delivery.windowId) ?? (loaded.has(delivery.windowId) ? Buffer.from(loaded.get(delivery.windowId)!) : undefined);
      jobs.push({ delivery, target: set?.get(delivery.webhookId), body });
    }
    return jobs;
  }

  async function run(job: Job): Promise<void> {
    const d = job.delivery;
    const startedAt = new Date();
    const t0 = performance.now();
    let finished: Finished;
    if (job.target === undefined || job.body === undefined) {
      // The rule version or the window is gone from the store: nothing can be sent, ever.
      finished = {
        ...facts(d, startedAt, 0),
        outcome: null,
        statusCode: null,
        error: job.target === undefined ? "the webhook is no longer in the store" : "the window's body is no longer in the store",
        responseExcerpt: null,
        nextStatus: "failed",
        nextAttemptAt: null,
      };
    } else {
      const headers = attemptHeaders({
        target: job.target,
        deliveryId: d.id,
        attempt: d.attempt,
        timestampSeconds: Math.floor(startedAt.getTime() / 1000),
        traceparent: attemptTraceparent(d.traceId),
        body: job.body,
      });
      const result = await o.sender.send({ target: job.target, headers, body: job.body });
      const durationMs = performance.now() - t0;
      const outcome = outcomeOf(result);
      const decision = decide(outcome, d.roundAttempt, Date.now(), o.policy);
      finished = {
        ...facts(d, startedAt, durationMs),
        outcome,
        statusCode: recordedStatus(result),
        error: errorOf(result),
        responseExcerpt: result.kind === "response" ? result.excerpt : null,
        nextStatus: decision.kind === "retry" ? "pending" : decision.kind,
        nextAttemptAt: decision.kind === "retry" ? new Date(decision.at) : null,
      };
      if (outcome !== "success") {
        o.log("debug", "attempt failed", { deliveryId: d.id, attempt: d.attempt, url: d.url, outcome, decision: decision.kind });
      }
    }
    o.recorder.add(finished);
  }

  function facts(d: ClaimedDelivery, startedAt: Date, durationMs: number) {
    return {
      deliveryId: d.id,
      windowId: d.windowId,
      ruleId: d.ruleId,
      webhookId: d.webhookId,
      url: d.url,
      attempt: d.attempt,
      trigger: d.trigger,
      startedAt,
      durationMs,
    };
  }

  function dispatch(job: Job): void {
    const origin = job.delivery.origin;
    inFlight++;
    perOrigin.set(origin, (perOrigin.get(origin) ?? 0) + 1);
    run(job)
      .catch((error: unknown) => o.log("error", "delivery worker failed; the lease will expire and it is retried", { deliveryId: job.delivery.id, error: String(error) }))
      .finally(() => {
        inFlight--;
        const n = (perOrigin.get(origin) ?? 1) - 1;
        if (n === 0) perOrigin.delete(origin);
        else perOrigin.set(origin, n);
        // Claim in batches: wake the loop once enough slots are free (or the origin just got room).
        if (o.concurrency - inFlight >= claimThreshold || n === o.originConcurrency - 1) wake();
      });
  }

  async function loop(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      const free = o.concurrency - inFlight;
      // Backpressure: do not run ahead of the recorder (e.g. while Postgres is down).
      if (free <= 0 || o.recorder.backlog >= o.concurrency * 4) {
        await pause(o.pollMs);
        continue;
      }
      const room = new Map<string, number>();
      for (const [origin, n] of perOrigin) room.set(origin, o.originConcurrency - n);
      let claimed: ClaimedDelivery[];
      let jobs: Job[];
      try {
        claimed = await claimDeliveries(o.db, {
          limit: Math.min(free, 500),
          leaseMs: o.leaseMs,
          claimedBy: o.instanceId,
          originRoom: room,
          defaultRoom: o.originConcurrency,
        });
        jobs = await prepare(claimed);
        o.onDatabase(true);
        failures = 0;
      } catch (error) {
        o.counters.databaseErrors++;
        o.onDatabase(false);
        if (failures++ === 0) o.log("warn", "could not claim deliveries; retrying", { error: String(error) });
        // A claim that committed before the failure is not lost: its leases expire and it is retried.
        await sleep(Math.min(2000, 100 * failures));
        continue;
      }
      for (const job of jobs) dispatch(job);
      if (claimed.length === 0) await pause(o.pollMs);
    }
  }

  const running = loop();

  return {
    wake,
    inFlight: () => inFlight,
    async stop() {
      stopping = true;
      wake();
      await running;
      while (inFlight > 0) await pause(50);
    },
  };
}
