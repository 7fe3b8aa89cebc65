import { releaseClaims, type ClaimedDelivery, type Database } from "@runhooks/db";
import type { Logger } from "@runhooks/telemetry";
import type { AttemptObserver } from "./attempt-observer.js";
import { createAttemptRunner } from "./attempt-runner.js";
import type { AttemptSender } from "./attempt-sender.js";
import { runClaimLoop } from "./claim-loop.js";
import type { Counters } from "./counters.js";
import { createDispatch } from "./dispatch.js";
import { prepareClaimed, prepareJobs, type Job } from "./jobs.js";
import { createLaneTable, type HeldDelivery } from "./lane-table.js";
import type { PayloadCache } from "./payload-cache.js";
import type { RetryPolicy } from "./policy.js";
import type { Recorder } from "./recorder.js";
import { createSignal } from "./signal.js";
import type { WebhookCache } from "./webhook-cache.js";

export interface WorkersOptions {
  readonly db: Database;
  readonly sender: AttemptSender;
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
  /** Spans and metrics of each attempt. */
  readonly observer: AttemptObserver;
  /**
   * Whether attempts can be sent now (the HTTP thread runs). While they cannot, nothing is claimed or
   * started: claimed deliveries wait in their lanes (their leases renewed); `wake` when it can again.
   */
  readonly canSend: () => boolean;
}

export interface Workers {
  /** Look for due deliveries now (new ones were stored). */
  wake(): void;
  /**
   * Room for one more delivery to this origin, taken now: the window reader stores the delivery
   * already claimed by this process and hands it over with `adopt` (or gives the room back with
   * `release`). False when the origin's lane or the process is full: store it pending instead.
   */
  reserve(origin: string, tenantId: string): boolean;
  release(delivery: { readonly origin: string; readonly tenantId: string }, count: number): void;
  /**
   * Whether a delivery to this origin that found no room now will find some soon: the process or a
   * claim holds the room (it comes back in milliseconds), or the origin's lane is full but drains fast.
   * A lane of a slow or dead endpoint is not worth waiting for: its deliveries go pending.
   */
  worthWaiting(origin: string, tenantId: string): boolean;
  /** Resolves when room may have opened (an attempt ended, a claim or a reservation gave room back), or after `ms`. */
  roomOpened(ms: number): Promise<void>;
  /** Deliveries stored claimed by this process (after `reserve`): sent without a claim round trip. */
  adopt(deliveries: readonly ClaimedDelivery[]): Promise<void>;
  inFlight(): number;
  /**
   * The deliveries this process has held (waiting in its lanes or in flight) for at least `minAgeMs`:
   * their leases are renewed (those taken since still have most of theirs).
   */
  holding(minAgeMs: number): { id: string; attempt: number }[];
  /** Stops claiming, gives back what was claimed but not started, and waits for the attempts in flight. */
  stop(): Promise<void>;
}

/**
 * The worker pool. Due deliveries are claimed from the Postgres queue in batches into one lane per
 * origin; each lane sends at most `originConcurrency` at a time and holds at most three times as many
 * waiting, seven for a fast lane (`LANE_DEPTHS`): claims stay large, the next attempt starts without a
 * round trip, and a slow or dead endpoint fills only its own lane. In all, at most `concurrency`
 * attempts are in flight and twice as many deliveries held.
 */
export function startWorkers(o: WorkersOptions): Workers {
  let stopping = false;
  // 1. The room: lanes, tenants, what the process holds and may hold (lane-table.ts, pure).
  const table = createLaneTable<Job>(o);
  // 2. What wakes the claim loop (latched), and what tells the window reader that room opened.
  const wakeUp = createSignal({ latched: true });
  const room = createSignal({ latched: false });
  const wake = () => wakeUp.notify();
  // 3. Attempts start from the lanes as the table allows; each one ended makes room and starts the next.
  const dispatch = createDispatch({
    table,
    concurrency: o.concurrency,
    mayStart: () => !stopping && o.canSend(),
    run: createAttemptRunner(o),
    ended(wakeClaims) {
      room.notify();
      if (wakeClaims) wake();
      if (stopping && table.inFlight === 0) wake();
    },
    log: o.log,
  });
  const hand = (jobs: readonly Job[]) => {
    for (const job of jobs) table.enqueue(job, Date.now());
    dispatch.pumpAll();
  };
  const release = (d: HeldDelivery, count: number) => {
    if (!table.release(d, count)) return;
    wake();
    room.notify();
  };
  // 4. The claim loop fills the lanes from the queue until stopping.
  const looping = runClaimLoop({
    ...o,
    table,
    wakeUp,
    room,
    stopping: () => stopping,
    unrecorded: () => o.recorder.backlog,
    prepare: (claimed) => prepareClaimed(o, claimed, (d) => release(d, 1)),
    hand,
    pumpAll: () => dispatch.pumpAll(),
    release,
  });

  return {
    wake,
    reserve: (origin, tenantId) => !stopping && o.canSend() && table.reserve(origin, tenantId, Date.now()),
    release,
    worthWaiting: (origin, tenantId) => !stopping && o.canSend() && table.worthWaiting(origin, tenantId, Date.now()),
    roomOpened: (ms) => room.wait(ms),
    adopt: async (deliveries) => hand(await prepareJobs(o, deliveries)),
    inFlight: () => table.inFlight,
    holding(minAgeMs) {
      const before = performance.now() - minAgeMs;
      return table
        .jobs()
        .filter((job) => job.heldSince <= before)
        .map((job) => ({ id: job.delivery.id, attempt: job.delivery.attempt }));
    },
    async stop() {
      stopping = true;
      wake();
      await looping;
      // Claimed but never started: back to the queue, as they were.
      const unstarted = table.takeUnstarted();
      if (unstarted.length > 0) {
        await releaseClaims(
          o.db,
          unstarted.map((j) => ({ id: j.delivery.id, attempt: j.delivery.attempt })),
        ).catch((error: unknown) =>
          o.log("warn", "could not give back unstarted deliveries; their leases will expire", {
            deliveries: unstarted.length,
            error: String(error),
          }),
        );
      }
      while (table.inFlight > 0) await wakeUp.wait(50);
    },
  };
}
