/**
 * How long a backfill waits before reading on (DESIGN.md §4 "Backfills"). Pure: live traffic keeps
 * priority. A backfill reads at most `maxRunsPerS` on average since it started, and not at all while
 * the live evaluators lag the runs topic by more than `maxLiveLag` messages (it looks again after
 * `lagBackoffMs`).
 */
export interface ThrottleInput {
  readonly runsRead: number;
  readonly elapsedMs: number;
  readonly maxRunsPerS: number;
  /** Undefined: not known (the group has no committed offsets yet): the rate alone decides. */
  readonly liveLag: number | undefined;
  readonly maxLiveLag: number;
  readonly lagBackoffMs: number;
}

export function throttleWaitMs(i: ThrottleInput): number {
  if (i.liveLag !== undefined && i.liveLag > i.maxLiveLag) return i.lagBackoffMs;
  return Math.max(0, Math.ceil((i.runsRead * 1000) / i.maxRunsPerS - i.elapsedMs));
}

/** The live lag: messages appended to the runs topic that the group has not committed past. */
export function groupLag(
  ends: ReadonlyMap<number, number>,
  committed: ReadonlyMap<number, number>,
): number | undefined {
  let lag = 0;
  let known = false;
  for (const [partition, end] of ends) {
    const c = committed.get(partition);
    if (c === undefined || c < 0) continue;
    known = true;
    lag += Math.max(0, end - c);
  }
  return known ? lag : undefined;
}
