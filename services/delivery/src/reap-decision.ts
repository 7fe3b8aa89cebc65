import type { ClaimantsSnapshot } from "@runhooks/db";

export interface ReapFacts {
  /** This process' instance id. */
  readonly self: string;
  readonly snapshot: ClaimantsSnapshot;
  /** When this reaper first saw each instance's lock free, on every snapshot since (database clock, ms). */
  readonly freeSince: ReadonlyMap<string, number>;
  /**
   * How long an instance's lock must stay free before its claims are taken (half a check period: free
   * on two checks in a row). A process whose lock's connection dropped (a Postgres restart) takes it
   * again sooner, and keeps its claims.
   */
  readonly graceMs: number;
}

export interface ReapDecision {
  /**
   * Instances whose in-flight claims are all taken back now, whatever their leases: their instance
   * lock has been free for the grace, so the process that claimed them is gone (or has lost its lock,
   * and claims and starts nothing until it holds it again).
   */
  readonly deadInstances: readonly string[];
  /** A claim not taken back by liveness outlived its lease. */
  readonly leasesExpired: boolean;
  /** `freeSince` for the next snapshot: the instances whose lock is free now, since when. */
  readonly freeSince: ReadonlyMap<string, number>;
}

/**
 * Which claims a reaper takes back, from a snapshot of the instances holding claims and the database's
 * clock. An instance whose lock stayed free for the grace is dead: all its claims go. Every other claim
 * follows its lease: a live instance renews what it holds, so only a stalled or cut-off one lets a
 * lease expire. Never by liveness: this process' own claims (its lock is its own business — a process
 * that lost it claims and starts nothing until it holds it again, and what it was sending ends and is
 * recorded) and claims without an instance id (no lock could say whose they are).
 */
export function decideReaping(f: ReapFacts): ReapDecision {
  const now = f.snapshot.now.getTime();
  const deadInstances: string[] = [];
  const freeSince = new Map<string, number>();
  let leasesExpired = false;
  for (const c of f.snapshot.claimants) {
    const judged = c.instanceId !== null && c.instanceId !== "" && c.instanceId !== f.self;
    if (judged && !c.alive) {
      const since = Math.min(f.freeSince.get(c.instanceId) ?? now, now);
      freeSince.set(c.instanceId, since);
      if (now - since >= f.graceMs) {
        deadInstances.push(c.instanceId);
        continue;
      }
    }
    if (c.earliestLeaseUntil.getTime() < now) leasesExpired = true;
  }
  return { deadInstances, leasesExpired, freeSince };
}
