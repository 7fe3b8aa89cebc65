import { claimDeliveries, type ClaimedDelivery, type Database } from "@runhooks/db";
import type { Logger } from "@runhooks/telemetry";
import type { Counters } from "./counters.js";
import type { Job } from "./jobs.js";
import { LANE_IDLE_MS, type HeldDelivery, type LaneTable } from "./lane-table.js";
import type { Signal } from "./signal.js";

export interface ClaimLoopOptions {
  readonly db: Database;
  readonly table: LaneTable<Job>;
  readonly leaseMs: number;
  readonly instanceId: string;
  /** How often to look for due deliveries when nothing wakes the loop. */
  readonly pollMs: number;
  /** What wakes the loop: new deliveries stored, room opened, the sender back, stopping. */
  readonly wakeUp: Signal;
  /** Notified when room opens; the window reader waits on it, and while it does it gets half the room. */
  readonly room: Signal;
  readonly stopping: () => boolean;
  readonly canSend: () => boolean;
  /** Attempts finished but not yet recorded. */
  readonly unrecorded: () => number;
  readonly prepare: (claimed: readonly ClaimedDelivery[]) => Promise<Job[]>;
  /** Prepared jobs join their lanes, and what may start starts. */
  readonly hand: (jobs: readonly Job[]) => void;
  readonly pumpAll: () => void;
  /** Gives back the room of deliveries claimed but not handed to a lane. */
  readonly release: (delivery: HeldDelivery, count: number) => void;
  readonly counters: Counters;
  readonly log: Logger;
  readonly onDatabase: (ok: boolean) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Claims due deliveries from the Postgres queue in batches into the lanes until stopping. An origin
 * whose lane is full is left out of claims altogether: deliveries to other endpoints keep being
 * claimed and sent.
 */
export async function runClaimLoop(o: ClaimLoopOptions): Promise<void> {
  const claim = createClaim(o);
  let failures = 0;
  let swept = Date.now();
  while (!o.stopping()) {
    // 1. Lanes empty for a while are dropped.
    if (Date.now() - swept > LANE_IDLE_MS) {
      swept = Date.now();
      o.table.dropIdle(swept);
    }
    // 2. Nothing can be sent: claim nothing (another process may take it) until the sender is back.
    if (!o.canSend()) {
      await o.wakeUp.wait(o.pollMs);
      continue;
    }
    // 3. What waited in the lanes for the sender starts now.
    o.pumpAll();
    // 4. Backpressure: nothing more held than the process may, and not ahead of the recorder (e.g.
    //    while Postgres is down).
    if (o.table.heldCapacity - o.table.held <= 0 || o.unrecorded() >= o.table.heldCapacity * 2) {
      await o.wakeUp.wait(o.pollMs);
      continue;
    }
    // 5. Claim, load what the claimed need, hand them to their lanes.
    let claimed: ClaimedDelivery[] = [];
    try {
      claimed = await claim();
      const jobs = await o.prepare(claimed);
      o.onDatabase(true);
      failures = 0;
      o.hand(jobs);
    } catch (error) {
      // Claimed but not prepared: the room goes back; their leases expire and they are retried.
      for (const d of claimed) o.release(d, 1);
      o.counters.databaseErrors++;
      o.onDatabase(false);
      if (failures++ === 0) o.log("warn", "could not claim deliveries; retrying", { error: String(error) });
      await sleep(Math.min(2000, 100 * failures));
      continue;
    }
    // 6. Nothing was due: wait for a wake-up or the next poll.
    if (claimed.length === 0) await o.wakeUp.wait(o.pollMs);
  }
}

/** One claim: the lanes' room reserved while it is in flight, swapped for what it got. */
function createClaim(o: ClaimLoopOptions): () => Promise<ClaimedDelivery[]> {
  /** Where the next claim starts in the origins' order (round robin when one claim cannot see them all). */
  let cursor: string | undefined;
  return async () => {
    const ticket = o.table.beginClaim(o.room.waiting > 0);
    let claimed: ClaimedDelivery[] = [];
    try {
      const result = await claimDeliveries(o.db, {
        ...ticket,
        leaseMs: o.leaseMs,
        claimedBy: o.instanceId,
        afterOrigin: cursor,
      });
      claimed = result.claimed;
      // More origins had due work than one claim looks at: the next claim goes on after the last.
      cursor = result.originsCapped ? result.lastOrigin : undefined;
    } finally {
      // Swap the claim's reservation for what it got (synchronously: nothing can slip in between).
      if (o.table.endClaim(ticket, claimed, Date.now())) o.room.notify();
    }
    return claimed;
  };
}
