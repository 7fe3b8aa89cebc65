import { renewLeases, type Database } from "@runhooks/db";
import type { Logger } from "@runhooks/telemetry";

/** Most deliveries renewed per statement (a process holds at most twice its concurrency, plus its recorder's backlog). */
const BATCH = 5000;

/**
 * Renews the leases of every delivery this process holds — waiting in its lanes, in flight, or finished
 * and waiting for the recorder — in one statement per 5,000. Run by housekeeping every lease/4 at most
 * (at least 4 renewals per lease), so a live process never loses a claim to the reaper, and the lease
 * can be short: it only bounds how long a dead process' deliveries wait for another to send them.
 */
export function leaseRenewal(o: {
  readonly db: Database;
  readonly instanceId: string;
  readonly leaseMs: number;
  readonly held: () => { id: string; attempt: number }[];
  readonly log: Logger;
}): () => Promise<void> {
  let failing = false;
  return async () => {
    const held = o.held();
    try {
      for (let i = 0; i < held.length; i += BATCH) {
        await renewLeases(o.db, held.slice(i, i + BATCH), { claimedBy: o.instanceId, leaseMs: o.leaseMs });
      }
      if (failing) o.log("info", "renewing leases again");
      failing = false;
    } catch (error) {
      // Postgres is unreachable: so is the reaper of every other process; the next tick tries again.
      if (!failing) o.log("warn", "could not renew leases; retrying", { deliveries: held.length, error: String(error) });
      failing = true;
    }
  };
}
