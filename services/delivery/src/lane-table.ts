import { createTenantLedger } from "./tenant-ledger.js";

/**
 * The room of a delivery process: what it holds (claimed or reserved deliveries, waiting in a lane or
 * in flight), per origin lane and per tenant, and what that allows. Pure: every operation is explicit,
 * time is passed in, nothing is sent or stored here (workers.ts does that).
 *
 * Invariants, after every operation:
 * - `held` = Σ over lanes (in flight + waiting + reserved) + what a claim in flight has reserved;
 * - `held` ≤ `heldCapacity` (twice the concurrency), except while a claim holds its limit;
 * - `inFlight` ≤ `concurrency`, and a lane's in flight ≤ `originConcurrency`;
 * - a lane holding anything (in flight, waiting or reserved) is never dropped.
 */

/** Attempts ended per second are measured over periods of this length. */
export const RATE_PERIOD_MS = 250;

/** A full lane ending at least this many attempts per second is worth waiting for. */
export const FAST_LANE_PER_S = 100;

/**
 * An empty lane is kept this long: the window reader can reserve room in a lane while a claim is in
 * flight only if the lane exists (the claim reserved its room), so a busy origin's lane must outlive
 * the moments it is empty or its first attempts would go through the pending queue and a claim.
 */
export const LANE_IDLE_MS = 60_000;

/**
 * How many times its concurrency a lane may hold (in flight and waiting): 4, and 8 for a fast lane
 * (ending ≥ FAST_LANE_PER_S attempts a second), whose room opens faster than one store or claim round
 * trip can refill a lane of 4. The lease does not cap them: a live process renews the leases of
 * everything it holds (lease-renewal.ts), so a delivery waiting in a lane behind a slow endpoint keeps
 * its claim however long it waits; the depth bounds that wait instead — at most depth − 1 attempt
 * deadlines (15 s at the defaults for a slow lane). A slow lane keeps the smaller depth.
 */
export const LANE_DEPTHS = { normal: 4, fast: 8 } as const;

export interface LaneLimits {
  /** Most attempts in flight in the process. */
  readonly concurrency: number;
  /** Most attempts in flight to one origin. */
  readonly originConcurrency: number;
}

/** What the table needs to know of a held delivery. */
export interface HeldDelivery {
  readonly origin: string;
  readonly tenantId: string;
}

export interface LaneJob {
  readonly delivery: HeldDelivery;
}

/** The room a claim may fill, reserved from `beginClaim` to `endClaim`. */
export interface ClaimTicket {
  /** Most deliveries to claim. */
  readonly limit: number;
  /** Each known lane's room (≤ 0: full, left out of the claim). */
  readonly originRoom: ReadonlyMap<string, number>;
  /** The room of an origin without a lane yet. */
  readonly defaultRoom: number;
  readonly tenantRoom: ReadonlyMap<string, number>;
  /** The room of a tenant holding nothing yet. */
  readonly defaultTenantRoom: number;
}

export type Round = "fair" | "spare";

export interface LaneTable<J extends LaneJob> {
  readonly heldCapacity: number;
  /** Deliveries held: waiting in lanes, in flight, reserved (by the reader or a claim in flight). */
  readonly held: number;
  readonly inFlight: number;
  /** Room for one more delivery to this origin, taken now (the window reader stores it claimed). */
  reserve(origin: string, tenantId: string, now: number): boolean;
  /** Gives back `count` reserved places of a lane; false when there was nothing to give back. */
  release(delivery: HeldDelivery, count: number): boolean;
  /** Whether a delivery that found no room now will find some soon (see Workers.worthWaiting). */
  worthWaiting(origin: string, tenantId: string, now: number): boolean;
  /**
   * Reserves what a claim may fill: every lane's room, and `limit` held places. `readerWaiting`: the
   * window reader waits for room, and gets half of it (its windows' first attempts need no claim).
   */
  beginClaim(readerWaiting: boolean): ClaimTicket;
  /** Swaps a claim's reservation for what it got; true when it got less than it reserved (room opened). */
  endClaim(ticket: ClaimTicket, claimed: readonly HeldDelivery[], now: number): boolean;
  /** A claimed or adopted delivery joins its lane's queue (its place was reserved). */
  enqueue(job: J, now: number): void;
  /**
   * The next job of the lane that may start now (the lane's and the process' concurrency allow it; in
   * the fair round only a tenant under its part of the slots), taken off the queue and counted in
   * flight; undefined when none may.
   */
  startNext(origin: string, round: Round): J | undefined;
  /** A job in flight ended. `wakeClaims`: enough room opened for the claim loop to look again. */
  end(job: J, now: number): { readonly wakeClaims: boolean };
  /** Origins whose lanes have jobs waiting. */
  waitingOrigins(): string[];
  /** Drops lanes empty since before `now − LANE_IDLE_MS` (never one that holds anything). */
  dropIdle(now: number): void;
  /** Takes every waiting job off its lane (stopping): they are no longer held. */
  takeUnstarted(): J[];
  /** Every job held: in flight first, then waiting. */
  jobs(): J[];
}

/** One origin's share of the process: its own queue of claimed deliveries and its own concurrency. */
interface Lane<J> {
  readonly queue: J[];
  active: number;
  /** Room taken by the window reader or a claim for deliveries not yet queued. */
  reserved: number;
  /** When an attempt of the lane last ended (or the lane was made): idle lanes are dropped after a while. */
  lastUsed: number;
  /** Attempts ended per second, measured over the last period of RATE_PERIOD_MS. */
  rate: number;
  periodStart: number;
  periodDone: number;
}

export function createLaneTable<J extends LaneJob>(limits: LaneLimits): LaneTable<J> {
  const { concurrency, originConcurrency } = limits;
  const lanes = new Map<string, Lane<J>>();
  const running = new Set<J>();
  const heldCapacity = concurrency * 2;
  // Fair between tenants too (tenant-shares.ts): in-flight slots and room to hold.
  const ledger = createTenantLedger(concurrency, heldCapacity);
  const laneCapacity = originConcurrency * LANE_DEPTHS.normal;
  // Claim in batches, not one by one: the loop is woken once this much room has opened.
  const claimThreshold = Math.max(1, Math.min(256, Math.floor(heldCapacity / 4)));
  const laneThreshold = Math.max(1, originConcurrency * 2);
  let held = 0;
  let inFlight = 0;
  /**
   * While a claim is in flight, the room it may fill is reserved: `reserve` can then neither overfill a
   * lane the claim is filling nor start a lane the claim may start.
   */
  let claimInFlight = false;

  const capacityOf = (lane: Lane<J>) =>
    lane.rate >= FAST_LANE_PER_S ? originConcurrency * LANE_DEPTHS.fast : laneCapacity;
  /** What the lane may still take: its capacity less what it runs, queues and has reserved. */
  const roomIn = (lane: Lane<J>) => capacityOf(lane) - lane.active - lane.queue.length - lane.reserved;
  const laneOf = (origin: string, now: number): Lane<J> => {
    let lane = lanes.get(origin);
    if (!lane) {
      lane = { queue: [], active: 0, reserved: 0, lastUsed: now, rate: 0, periodStart: now, periodDone: 0 };
      lanes.set(origin, lane);
    }
    return lane;
  };

  return {
    heldCapacity,
    get held() {
      return held;
    },
    get inFlight() {
      return inFlight;
    },

    reserve(origin, tenantId, now) {
      if (held >= heldCapacity || !ledger.mayHold(tenantId)) return false;
      // A lane a claim in flight may be starting: leave that origin to the claim.
      if (claimInFlight && !lanes.has(origin)) return false;
      const lane = laneOf(origin, now);
      if (roomIn(lane) <= 0) return false;
      lane.reserved++;
      held++;
      ledger.hold(tenantId);
      return true;
    },

    release(d, count) {
      const lane = lanes.get(d.origin);
      if (!lane || count <= 0) return false;
      lane.reserved -= count;
      held -= count;
      ledger.unhold(d.tenantId, count);
      return true;
    },

    worthWaiting(origin, tenantId, now) {
      // A tenant at its hold cap waits for its own deliveries to end: not worth holding the reader for.
      if (!ledger.mayHold(tenantId)) return false;
      const lane = lanes.get(origin);
      if (!lane) return true;
      if (roomIn(lane) > 0) return true;
      // A lane whose attempts in flight have ended nothing for a while is stalled, whatever its last
      // rate (one full of deliveries being stored or queued is not); a new lane (no rate measured yet)
      // is given the benefit of the doubt — the consumer's linger bounds the wait.
      if (lane.active > 0 && now - lane.lastUsed > 4 * RATE_PERIOD_MS) return false;
      return lane.rate === 0 || lane.rate >= FAST_LANE_PER_S;
    },

    beginClaim(readerWaiting) {
      const free = heldCapacity - held;
      const limit = Math.min(readerWaiting ? Math.ceil(free / 2) : free, 1000);
      const originRoom = new Map<string, number>();
      for (const [origin, lane] of lanes) {
        const r = roomIn(lane);
        originRoom.set(origin, r);
        if (r > 0) lane.reserved += r;
      }
      held += limit;
      claimInFlight = true;
      const tenants = ledger.claimRoom();
      return {
        limit,
        originRoom,
        defaultRoom: laneCapacity,
        tenantRoom: tenants.rooms,
        defaultTenantRoom: tenants.newcomer,
      };
    },

    endClaim(ticket, claimed, now) {
      claimInFlight = false;
      held -= ticket.limit;
      for (const [origin, r] of ticket.originRoom) if (r > 0) lanes.get(origin)!.reserved -= r;
      held += claimed.length;
      for (const d of claimed) {
        laneOf(d.origin, now).reserved++;
        ledger.hold(d.tenantId);
      }
      return claimed.length < ticket.limit;
    },

    enqueue(job, now) {
      const lane = laneOf(job.delivery.origin, now);
      lane.reserved--;
      lane.queue.push(job);
      ledger.queued(job.delivery.tenantId, 1);
    },

    startNext(origin, round) {
      const lane = lanes.get(origin);
      if (!lane || lane.active >= originConcurrency || inFlight >= concurrency || lane.queue.length === 0)
        return undefined;
      const i = lane.queue.findIndex((j) => ledger.mayStart(j.delivery.tenantId, round));
      if (i < 0) return undefined;
      const job = i === 0 ? lane.queue.shift()! : lane.queue.splice(i, 1)[0]!;
      ledger.started(job.delivery.tenantId);
      lane.active++;
      inFlight++;
      running.add(job);
      return job;
    },

    end(job, now) {
      // A lane with an attempt in flight is never dropped: it is there.
      const lane = lanes.get(job.delivery.origin)!;
      const tenant = job.delivery.tenantId;
      running.delete(job);
      lane.active--;
      inFlight--;
      held--;
      ledger.ended(tenant);
      ledger.unhold(tenant);
      const laneRoom = roomIn(lane);
      lane.lastUsed = now;
      lane.periodDone++;
      if (now - lane.periodStart >= RATE_PERIOD_MS) {
        lane.rate = (lane.periodDone * 1000) / (now - lane.periodStart);
        lane.periodStart = now;
        lane.periodDone = 0;
      }
      return { wakeClaims: heldCapacity - held === claimThreshold || laneRoom === laneThreshold };
    },

    waitingOrigins() {
      const origins: string[] = [];
      for (const [origin, lane] of lanes) if (lane.queue.length > 0) origins.push(origin);
      return origins;
    },

    dropIdle(now) {
      for (const [origin, lane] of lanes) {
        if (lane.active === 0 && lane.queue.length === 0 && lane.reserved === 0 && now - lane.lastUsed > LANE_IDLE_MS)
          lanes.delete(origin);
      }
    },

    takeUnstarted() {
      const unstarted = [...lanes.values()].flatMap((lane) => lane.queue.splice(0));
      held -= unstarted.length;
      return unstarted;
    },

    jobs() {
      const all = [...running];
      for (const lane of lanes.values()) all.push(...lane.queue);
      return all;
    },
  };
}
