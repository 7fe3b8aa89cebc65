import type { AttemptOutcome } from "@runhooks/contracts";
import { publishStragglers, reapExpiredLeases, type Database } from "@runhooks/db";
import type { Counters } from "./counters.js";
import type { Logger } from "@runhooks/telemetry";
import type { Publisher } from "./publisher.js";

/**
 * Housekeeping every instance runs, safe to run concurrently (SKIP LOCKED): its own leases are renewed,
 * deliveries whose lease expired go back to the queue (their attempt recorded as interrupted), and recorded attempts that
 * never reached the attempts topic are published.
 */
export function startHousekeeping(o: {
  readonly db: Database;
  readonly publisher: Publisher;
  readonly intervalMs: number;
  /** Attempts unpublished for this long are taken to be orphaned by a dead process. */
  readonly stragglerAgeMs: number;
  readonly log: Logger;
  readonly counters: Counters;
  readonly onReaped: (n: number) => void;
  /**
   * Renews this process' own leases; run first in every tick, so a process that resumes after a stall
   * renews what it still holds before its own reaper could take it back.
   */
  readonly renew: () => Promise<void>;
}): { stop(): Promise<void> } {
  let reaping: Promise<void> | undefined;
  let sweeping: Promise<void> | undefined;
  // Reaping and publishing stragglers run apart: publishing to a slow Kafka (seconds) must not delay
  // the takeover of a dead process' deliveries.
  const reap = async () => {
    try {
      await o.renew();
      let reaped = 0;
      for (let n = 1000; n === 1000; reaped += n) n = await reapExpiredLeases(o.db, 1000);
      if (reaped > 0) {
        o.counters.attempts.interrupted = (o.counters.attempts.interrupted ?? 0) + reaped;
        o.log("info", "deliveries whose lease expired are queued again", { deliveries: reaped });
        o.onReaped(reaped);
      }
    } catch (error) {
      o.counters.databaseErrors++;
      o.log("debug", "reaping failed; next time", { error: String(error) });
    }
  };
  const sweep = async () => {
    try {
      let published = 0;
      for (let n = 500; n === 500; published += n) n = await publishStragglers(o.db, o.stragglerAgeMs, 500, (rows) =>
          o.publisher.produce(rows.map((r) => ({ ...r, outcome: r.outcome as AttemptOutcome }))),
        );
      if (published > 0) o.log("info", "published attempts left unpublished by an earlier process", { attempts: published });
    } catch (error) {
      o.counters.databaseErrors++;
      o.log("debug", "publishing stragglers failed; next time", { error: String(error) });
    }
  };
  const timer = setInterval(() => {
    reaping ??= reap().finally(() => {
      reaping = undefined;
    });
    sweeping ??= sweep().finally(() => {
      sweeping = undefined;
    });
  }, o.intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await reaping;
      await sweeping;
    },
  };
}
