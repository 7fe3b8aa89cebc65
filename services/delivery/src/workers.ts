import { claimDeliveries, releaseClaims, windowPayloads, type ClaimedDelivery, type Database } from "@runhooks/db";
import { errorOf, outcomeOf, recordedStatus, type AttemptResult } from "./attempt-result.js";
import { HttpThreadStoppedError } from "./http-thread.js";
import type { AttemptObserver } from "./attempt-observer.js";
import type { Counters } from "./counters.js";
import type { Logger } from "@runhooks/telemetry";
import type { PayloadCache } from "./payload-cache.js";
import { decide, type RetryPolicy } from "./policy.js";
import type { Finished, Recorder } from "./recorder.js";
import type { AttemptSender } from "./attempt-sender.js";
import type { Target } from "./target.js";
import { attemptTraceparent } from "./traceparent.js";
import type { WebhookCache } from "./webhook-cache.js";
import { createTenantLedger } from "./tenant-ledger.js";

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

interface Job {
  readonly delivery: ClaimedDelivery;
  readonly target: Target | undefined;
  readonly body: Buffer | undefined;
  /** When this process took it (ms, monotonic): only deliveries held a while need their leases renewed. */
  readonly heldSince: number;
}

/** One origin's share of the process: its own queue of claimed deliveries and its own concurrency. */
interface OriginLane {
  readonly queue: Job[];
  active: number;
  /** Room taken by the window reader for deliveries it is storing claimed. */
  reserved: number;
  /** When an attempt of the lane last ended: idle lanes are dropped after a while. */
  lastUsed: number;
  /** Attempts ended per second, measured over the last period of RATE_PERIOD_MS. */
  rate: number;
  periodStart: number;
  periodDone: number;
}

const RATE_PERIOD_MS = 250;
/** A full lane ending at least this many attempts per second is worth waiting for. */
const FAST_LANE_PER_S = 100;

/**
 * An empty lane is kept this long: the window reader can reserve room in a lane while a claim is in
 * flight only if the lane exists (the claim reserved its room), so dropping lanes the moment they empty
 * sent most first attempts of a busy origin through the pending queue and a claim.
 */
const LANE_IDLE_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How many times its concurrency a lane may hold (in flight and waiting): 4, and 8 for a fast lane
 * (ending ≥ FAST_LANE_PER_S attempts a second) — at thousands a second, room opened faster than one
 * store or claim round trip refilled a lane of 4, which ran dry between them (tiny statements, ~25%
 * fewer deliveries a second in bench:delivery). The lease does not cap them: a live process renews the
 * leases of everything it holds (lease-renewal.ts), so a delivery waiting in a lane behind a slow
 * endpoint keeps its claim however long it waits; the depth bounds that wait instead — at most
 * depth − 1 attempt deadlines (15 s at the defaults for a slow lane). A slow lane keeps the smaller depth.
 */
export const LANE_DEPTHS = { normal: 4, fast: 8 } as const;

/**
 * The worker pool. Due deliveries are claimed from the Postgres queue in batches into one lane per
 * origin; each lane sends at most `originConcurrency` at a time and holds at most three times as many
 * waiting, seven for a fast lane (`LANE_DEPTHS`): claims stay large, the next attempt starts without a
 * round trip, and a slow or dead endpoint fills only its own lane. An origin whose lane is full is left
 * out of claims altogether: deliveries to other endpoints keep being claimed and sent. In all, at most
 * `concurrency` attempts are in flight and twice as many deliveries held.
 */
export function startWorkers(o: WorkersOptions): Workers {
  let stopping = false;
  /** Deliveries this process has claimed and not finished: queued or in flight. */
  let held = 0;
  let inFlight = 0;
  const lanes = new Map<string, OriginLane>();
  const heldCapacity = o.concurrency * 2;
  // Fair between tenants too (tenant-shares.ts): in-flight slots and room to hold.
  const ledger = createTenantLedger(o.concurrency, heldCapacity);
  const depths = LANE_DEPTHS;
  const laneCapacity = o.originConcurrency * depths.normal;
  const laneCapacityOf = (lane: OriginLane | undefined) =>
    lane !== undefined && lane.rate >= FAST_LANE_PER_S ? o.originConcurrency * depths.fast : laneCapacity;
  /** What the lane may still take: its capacity less what it runs, queues and has reserved. */
  const roomIn = (lane: OriginLane) => laneCapacityOf(lane) - lane.active - lane.queue.length - lane.reserved;
  // Claim in batches, not one by one: the loop is woken once this much room has opened.
  const claimThreshold = Math.max(1, Math.min(256, Math.floor(heldCapacity / 4)));
  const laneThreshold = Math.max(1, o.originConcurrency * 2);

  const roomWaiters = new Set<() => void>();
  const roomOpens = () => {
    for (const resolve of roomWaiters) resolve();
    roomWaiters.clear();
  };

  const idle = new Set<() => void>();
  /** A wake-up that came while the loop was busy: its next pause returns at once. */
  let woken = false;
  const wake = () => {
    if (idle.size === 0) woken = true;
    for (const resolve of idle) resolve();
    idle.clear();
  };
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken) {
        woken = false;
        resolve();
        return;
      }
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
    const bodies = new Map<string, Buffer>();
    for (const [windowId, payload] of loaded) {
      const body = Buffer.from(payload);
      bodies.set(windowId, body);
      o.payloads.set(windowId, body);
    }
    const jobs: Job[] = [];
    for (const delivery of claimed) {
      const set = await o.webhooks.get(delivery.ruleId, delivery.ruleVersion);
      const body = bodies.get(delivery.windowId) ?? o.payloads.get(delivery.windowId);
      jobs.push({ delivery, target: set?.get(delivery.webhookId), body, heldSince: performance.now() });
    }
    return jobs;
  }

  /** Jobs in flight (their leases are renewed with those waiting in lanes). */
  const running = new Set<Job>();

  async function run(job: Job): Promise<void> {
    const d = job.delivery;
    const startedAt = new Date();
    const t0 = performance.now();
    let finished: Finished;
    if (job.target === undefined || job.body === undefined) {
      // The rule version or the window is gone from the store: nothing can be sent, ever.
      finished = {
        ...facts(d, startedAt, 0),
        outcome: "request_failed",
        statusCode: null,
        error: job.target === undefined ? "the webhook is no longer in the store" : "the window's body is no longer in the store",
        responseExcerpt: null,
        nextStatus: "failed",
        nextAttemptAt: null,
      };
    } else {
      const observed = o.observer.start(d, job.target);
      const result = await o.sender
        .send({
          target: job.target,
          deliveryId: d.id,
          attempt: d.attempt,
          timestampSeconds: Math.floor(startedAt.getTime() / 1000),
          traceparent: observed.traceparent ?? attemptTraceparent(d.traceId),
          body: job.body,
        })
        .catch((error: unknown): AttemptResult => {
          // The HTTP thread stopped under the attempt: whether the endpoint got it is unknown.
          if (error instanceof HttpThreadStoppedError) return { kind: "interrupted", error: `interrupted: ${error.message}; sent again` };
          throw error;
        });
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
      observed.end(finished, job.body);
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

  function laneOf(origin: string): OriginLane {
    let lane = lanes.get(origin);
    if (!lane) {
      lane = { queue: [], active: 0, reserved: 0, lastUsed: Date.now(), rate: 0, periodStart: Date.now(), periodDone: 0 };
      lanes.set(origin, lane);
    }
    return lane;
  }

  /**
   * Starts what the lane's concurrency (and the process') allows: in the fair round only deliveries of
   * tenants under their part of the slots, in the spare round any (a slot nobody under it wanted).
   */
  function pump(origin: string, lane: OriginLane, round: "fair" | "spare" = "fair"): void {
    while (lane.active < o.originConcurrency && inFlight < o.concurrency && lane.queue.length > 0 && !stopping && o.canSend()) {
      const i = lane.queue.findIndex((j) => ledger.mayStart(j.delivery.tenantId, round));
      if (i < 0) return;
      const job = i === 0 ? lane.queue.shift()! : lane.queue.splice(i, 1)[0]!;
      const tenant = job.delivery.tenantId;
      ledger.started(tenant);
      lane.active++;
      inFlight++;
      running.add(job);
      run(job)
        .catch((error: unknown) =>
          o.log("error", "delivery worker failed; the lease will expire and it is retried", { deliveryId: job.delivery.id, error: String(error) }),
        )
        .finally(() => {
          running.delete(job);
          lane.active--;
          inFlight--;
          held--;
          ledger.ended(tenant);
          ledger.unhold(tenant);
          const laneRoom = roomIn(lane);
          const now = Date.now();
          lane.lastUsed = now;
          lane.periodDone++;
          if (now - lane.periodStart >= RATE_PERIOD_MS) {
            lane.rate = (lane.periodDone * 1000) / (now - lane.periodStart);
            lane.periodStart = now;
            lane.periodDone = 0;
          }
          pump(origin, lane);
          roomOpens();
          // A slot the process' limit held back: another lane may use it.
          if (inFlight < o.concurrency) pumpAll();
          if (heldCapacity - held === claimThreshold || laneRoom === laneThreshold) wake();
          if (stopping && inFlight === 0) wake();
        });
    }
  }

  /** Every lane's fair round, then (slots left) every lane's spare round. */
  function pumpAll(): void {
    for (const [origin, lane] of lanes) if (lane.queue.length > 0) pump(origin, lane, "fair");
    if (inFlight < o.concurrency) for (const [origin, lane] of lanes) if (lane.queue.length > 0) pump(origin, lane, "spare");
  }

  /** A claimed delivery joins its lane's queue. */
  function enqueue(job: Job): void {
    const lane = laneOf(job.delivery.origin);
    lane.reserved--;
    lane.queue.push(job);
    ledger.queued(job.delivery.tenantId, 1);
  }

  /**
   * While a claim is in flight, the room it may fill is reserved: the window reader's `reserve` can
   * then neither overfill a lane the claim is filling nor start a lane the claim may start.
   */
  let claimInFlight = false;
  /** Where the next claim starts in the origins' order (round robin when one claim cannot see them all). */
  let claimCursor: string | undefined;

  async function claim(): Promise<ClaimedDelivery[]> {
    // The window reader waiting for room (its windows' first attempts need no claim) gets half of it.
    const free = heldCapacity - held;
    const limit = Math.min(roomWaiters.size > 0 ? Math.ceil(free / 2) : free, 1000);
    const room = new Map<string, number>();
    for (const [origin, lane] of lanes) {
      const r = roomIn(lane);
      room.set(origin, r);
      if (r > 0) lane.reserved += r;
    }
    held += limit;
    claimInFlight = true;
    const tenants = ledger.claimRoom();
    let claimed: ClaimedDelivery[] = [];
    try {
      const result = await claimDeliveries(o.db, {
        limit,
        leaseMs: o.leaseMs,
        claimedBy: o.instanceId,
        originRoom: room,
        defaultRoom: laneCapacity,
        afterOrigin: claimCursor,
        tenantRoom: tenants.rooms,
        defaultTenantRoom: tenants.newcomer,
      });
      claimed = result.claimed;
      // More origins had due work than one claim looks at: the next claim goes on after the last.
      claimCursor = result.originsCapped ? result.lastOrigin : undefined;
    } finally {
      // Swap the claim's reservation for what it got (synchronously: nothing can slip in between).
      claimInFlight = false;
      held -= limit;
      for (const [origin, r] of room) if (r > 0) lanes.get(origin)!.reserved -= r;
      held += claimed.length;
      for (const d of claimed) {
        laneOf(d.origin).reserved++;
        ledger.hold(d.tenantId);
      }
      if (claimed.length < limit) roomOpens();
    }
    return claimed;
  }

  /** Drops lanes empty for a while (never one a claim or the window reader holds room in). */
  function dropIdleLanes(now: number): void {
    for (const [origin, lane] of lanes) {
      if (lane.active === 0 && lane.queue.length === 0 && lane.reserved === 0 && now - lane.lastUsed > LANE_IDLE_MS) lanes.delete(origin);
    }
  }

  async function loop(): Promise<void> {
    let failures = 0;
    let swept = Date.now();
    while (!stopping) {
      if (Date.now() - swept > LANE_IDLE_MS) {
        swept = Date.now();
        dropIdleLanes(swept);
      }
      // Nothing can be sent: claim nothing (another process may take it) until the sender is back.
      if (!o.canSend()) {
        await pause(o.pollMs);
        continue;
      }
      // What waited in the lanes for the sender starts now.
      pumpAll();
      // Backpressure: do not run ahead of the recorder (e.g. while Postgres is down).
      if (heldCapacity - held <= 0 || o.recorder.backlog >= heldCapacity * 2) {
        await pause(o.pollMs);
        continue;
      }
      let claimed: ClaimedDelivery[] = [];
      try {
        claimed = await claim();
        const jobs = await prepare(claimed);
        o.onDatabase(true);
        failures = 0;
        for (const job of jobs) enqueue(job);
        pumpAll();
      } catch (error) {
        // Claimed but not prepared: the room goes back; their leases expire and they are retried.
        for (const d of claimed) release(d, 1);
        o.counters.databaseErrors++;
        o.onDatabase(false);
        if (failures++ === 0) o.log("warn", "could not claim deliveries; retrying", { error: String(error) });
        await sleep(Math.min(2000, 100 * failures));
        continue;
      }
      if (claimed.length === 0) await pause(o.pollMs);
    }
  }

  function release(d: { readonly origin: string; readonly tenantId: string }, count: number): void {
    const lane = lanes.get(d.origin);
    if (!lane || count <= 0) return;
    lane.reserved -= count;
    held -= count;
    ledger.unhold(d.tenantId, count);
    wake();
    roomOpens();
  }

  const looping = loop();

  return {
    wake,
    reserve(origin, tenantId) {
      if (stopping || held >= heldCapacity || !o.canSend() || !ledger.mayHold(tenantId)) return false;
      // A lane a claim in flight may be starting: leave that origin to the claim.
      if (claimInFlight && !lanes.has(origin)) return false;
      const lane = laneOf(origin);
      if (roomIn(lane) <= 0) return false;
      lane.reserved++;
      held++;
      ledger.hold(tenantId);
      return true;
    },
    release,
    worthWaiting(origin, tenantId) {
      // A tenant at its hold cap waits for its own deliveries to end: not worth holding the reader for.
      if (stopping || !o.canSend() || !ledger.mayHold(tenantId)) return false;
      const lane = lanes.get(origin);
      if (!lane) return true;
      if (roomIn(lane) > 0) return true;
      // A lane whose attempts in flight have ended nothing for a while is stalled, whatever its last
      // rate (one full of deliveries being stored or queued is not); a new lane (no rate measured yet)
      // is given the benefit of the doubt — the consumer's linger bounds the wait.
      if (lane.active > 0 && Date.now() - lane.lastUsed > 4 * RATE_PERIOD_MS) return false;
      return lane.rate === 0 || lane.rate >= FAST_LANE_PER_S;
    },
    roomOpened(ms) {
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          roomWaiters.delete(done);
          resolve();
        }, ms);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        roomWaiters.add(done);
      });
    },
    async adopt(deliveries) {
      const jobs = await prepare(deliveries);
      for (const job of jobs) enqueue(job);
      pumpAll();
    },
    inFlight: () => inFlight,
    holding(minAgeMs) {
      const before = performance.now() - minAgeMs;
      const held: { id: string; attempt: number }[] = [];
      const add = (job: Job) => {
        if (job.heldSince <= before) held.push({ id: job.delivery.id, attempt: job.delivery.attempt });
      };
      for (const job of running) add(job);
      for (const lane of lanes.values()) for (const job of lane.queue) add(job);
      return held;
    },
    async stop() {
      stopping = true;
      wake();
      await looping;
      // Claimed but never started: back to the queue, as they were.
      const unstarted = [...lanes.values()].flatMap((lane) => lane.queue.splice(0));
      held -= unstarted.length;
      if (unstarted.length > 0) {
        await releaseClaims(
          o.db,
          unstarted.map((j) => ({ id: j.delivery.id, attempt: j.delivery.attempt })),
        ).catch((error: unknown) =>
          o.log("warn", "could not give back unstarted deliveries; their leases will expire", { deliveries: unstarted.length, error: String(error) }),
        );
      }
      while (inFlight > 0) await pause(50);
    },
  };
}
