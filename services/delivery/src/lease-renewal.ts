import { renewLeases, type Database } from "@runhooks/db";
import type { Logger } from "@runhooks/telemetry";

/** Most deliveries renewed per statement (a process holds at most twice its concurrency, plus its recorder's backlog). */
const BATCH = 5000;

export interface LeaseRenewal {
  /** Renews now (housekeeping calls it before reaping, so a process resuming from a stall renews first). */
  renew(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Renews the leases of every delivery this process holds — waiting in its lanes, in flight, or finished
 * and waiting for the recorder — in one statement per 5,000, every lease/10 on a timer of its own (a
 * slow housekeeping tick, e.g. publishing stragglers while Kafka is slow, must not delay it). Only
 * deliveries held for a renewal period or more are renewed (`held(minAgeMs)`): at thousands a second
 * most are done within it, and a renewal is a row write. So a held delivery is renewed at most two
 * periods after it was taken and every period after that: a live process loses no claim unless it
 * stalls for longer than the lease less two periods (8 s at the default 10 s), and the lease can be
 * short — it only bounds how long a dead process' deliveries wait for another to send them.
 */
export function startLeaseRenewal(o: {
  readonly db: Database;
  readonly instanceId: string;
  readonly leaseMs: number;
  readonly held: (minAgeMs: number) => { id: string; attempt: number }[];
  readonly log: Logger;
}): LeaseRenewal {
  let failing = false;
  let running: Promise<void> | undefined;
  const everyMs = Math.max(100, Math.floor(o.leaseMs / 10));
  const once = async () => {
    const held = o.held(everyMs);
    try {
      for (let i = 0; i < held.length; i += BATCH) {
        await renewLeases(o.db, held.slice(i, i + BATCH), { claimedBy: o.instanceId, leaseMs: o.leaseMs });
      }
      if (failing) o.log("info", "renewing leases again");
      failing = false;
    } catch (error) {
      // Postgres is unreachable: so is the reaper of every other process; the next round tries again.
      if (!failing)
        o.log("warn", "could not renew leases; retrying", { deliveries: held.length, error: String(error) });
      failing = true;
    }
  };
  const renew = () =>
    (running ??= once().finally(() => {
      running = undefined;
    }));
  const timer = setInterval(() => void renew(), everyMs);
  return {
    renew,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
