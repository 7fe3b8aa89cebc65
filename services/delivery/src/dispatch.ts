import type { Logger } from "@runhooks/telemetry";
import type { Job } from "./jobs.js";
import type { LaneTable, Round } from "./lane-table.js";

export interface Dispatch {
  /** Starts what the lanes allow: every lane's fair round, then (slots left) every lane's spare round. */
  pumpAll(): void;
}

/**
 * Starts attempts from the lanes as the lane table allows: in the fair round only deliveries of
 * tenants under their part of the slots, in the spare round any (a slot nobody under it wanted). An
 * attempt that ends starts the next of its lane, then offers a slot the process' limit held back to
 * the other lanes.
 */
export function createDispatch(o: {
  readonly table: LaneTable<Job>;
  readonly concurrency: number;
  /** Whether attempts may start now (not stopping, the sender runs). */
  readonly mayStart: () => boolean;
  readonly run: (job: Job) => Promise<void>;
  /** An attempt ended and what it allowed has started; `wakeClaims`: enough room opened to claim. */
  readonly ended: (wakeClaims: boolean) => void;
  readonly log: Logger;
}): Dispatch {
  /** Starts what the lane of `origin` allows in this round. */
  function pump(origin: string, round: Round = "fair"): void {
    for (let job = next(origin, round); job !== undefined; job = next(origin, round)) start(origin, job);
  }

  function next(origin: string, round: Round): Job | undefined {
    return o.mayStart() ? o.table.startNext(origin, round) : undefined;
  }

  function start(origin: string, job: Job): void {
    o.run(job)
      .catch((error: unknown) =>
        o.log("error", "delivery worker failed; the lease will expire and it is retried", {
          deliveryId: job.delivery.id,
          error: String(error),
        }),
      )
      .finally(() => {
        const { wakeClaims } = o.table.end(job, Date.now());
        pump(origin);
        // A slot the process' limit held back: another lane may use it.
        if (o.table.inFlight < o.concurrency) pumpAll();
        o.ended(wakeClaims);
      });
  }

  function pumpAll(): void {
    for (const origin of o.table.waitingOrigins()) pump(origin, "fair");
    if (o.table.inFlight < o.concurrency) for (const origin of o.table.waitingOrigins()) pump(origin, "spare");
  }

  return { pumpAll };
}
