import type { AttemptOutcome } from "@runhooks/contracts";
import {
  claimantsSnapshot,
  publishStragglers,
  reapDeadInstanceClaims,
  reapExpiredLeases,
  type Database,
} from "@runhooks/db";
import type { Counters } from "./counters.js";
import type { Logger } from "@runhooks/telemetry";
import type { Publisher } from "./publisher.js";
import { decideReaping } from "./reap-decision.js";

/** Most deliveries one reaping statement takes back. */
const REAP_BATCH = 1000;

/**
 * Housekeeping every instance runs, safe to run concurrently (SKIP LOCKED): in-flight claims of dead
 * instances (their instance lock is free) and claims whose lease expired go back to the queue (their
 * attempt recorded as interrupted), and recorded attempts that never reached the attempts topic are
 * published.
 */
export function startHousekeeping(o: {
  readonly db: Database;
  readonly publisher: Publisher;
  /** This process' instance id: its own claims are never reaped by liveness. */
  readonly instanceId: string;
  /** How often claims are checked. */
  readonly reapEveryMs: number;
  /**
   * How long an instance's lock must stay free before its claims are taken (`decideReaping`): a dead
   * instance's deliveries wait at most two checks (the first sees its lock free, the next reaps).
   */
  readonly deadAfterMs: number;
  readonly sweepEveryMs: number;
  /** Attempts unpublished for this long are taken to be orphaned by a dead process. */
  readonly stragglerAgeMs: number;
  readonly log: Logger;
  readonly counters: Counters;
  readonly onReaped: (n: number) => void;
  /**
   * Renews this process' own leases; run before expired leases are reaped, so a process that resumes
   * after a stall renews what it still holds before its own reaper could take it back.
   */
  readonly renew: () => Promise<void>;
}): { stop(): Promise<void> } {
  let reaping: Promise<void> | undefined;
  let sweeping: Promise<void> | undefined;
  /** When each instance's lock was first seen free, on every check since (`decideReaping`). */
  let freeSince: ReadonlyMap<string, number> = new Map();
  const drain = async (reapSome: (limit: number) => Promise<number>) => {
    let reaped = 0;
    for (let n = REAP_BATCH; n === REAP_BATCH; reaped += n) n = await reapSome(REAP_BATCH);
    return reaped;
  };
  // Reaping and publishing stragglers run apart: publishing to a slow Kafka (seconds) must not delay
  // the takeover of a dead process' deliveries.
  const reap = async () => {
    try {
      // 1. Who holds claims in flight, whether each is alive, their earliest leases.
      const snapshot = await claimantsSnapshot(o.db);
      const decision = decideReaping({ self: o.instanceId, snapshot, freeSince, graceMs: o.deadAfterMs });
      freeSince = decision.freeSince;
      // 2. Dead instances: everything they held.
      const dead = await drain((limit) => reapDeadInstanceClaims(o.db, decision.deadInstances, limit));
      if (dead > 0)
        o.log("info", "deliveries of delivery processes that are gone are queued again", {
          deliveries: dead,
          instances: decision.deadInstances,
        });
      // 3. Expired leases, once this process renewed its own.
      let expired = 0;
      if (decision.leasesExpired) {
        await o.renew();
        expired = await drain((limit) => reapExpiredLeases(o.db, limit));
        if (expired > 0) o.log("info", "deliveries whose lease expired are queued again", { deliveries: expired });
      }
      // 4. Counted, and the workers told.
      if (dead + expired > 0) {
        o.counters.attempts.interrupted = (o.counters.attempts.interrupted ?? 0) + dead + expired;
        o.onReaped(dead + expired);
      }
    } catch (error) {
      o.counters.databaseErrors++;
      o.log("debug", "reaping failed; next time", { error: String(error) });
    }
  };
  const sweep = async () => {
    try {
      let published = 0;
      for (let n = 500; n === 500; published += n)
        n = await publishStragglers(o.db, o.stragglerAgeMs, 500, (rows) =>
          o.publisher.produce(rows.map((r) => ({ ...r, outcome: r.outcome as AttemptOutcome }))),
        );
      if (published > 0)
        o.log("info", "published attempts left unpublished by an earlier process", { attempts: published });
    } catch (error) {
      o.counters.databaseErrors++;
      o.log("debug", "publishing stragglers failed; next time", { error: String(error) });
    }
  };
  const reapTimer = setInterval(() => {
    reaping ??= reap().finally(() => {
      reaping = undefined;
    });
  }, o.reapEveryMs);
  const sweepTimer = setInterval(() => {
    sweeping ??= sweep().finally(() => {
      sweeping = undefined;
    });
  }, o.sweepEveryMs);
  return {
    async stop() {
      clearInterval(reapTimer);
      clearInterval(sweepTimer);
      await reaping;
      await sweeping;
    },
  };
}
