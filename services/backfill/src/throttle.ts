import { decodeCheckpoint } from "@runhooks/rules";

/**
 * How fast a backfill reads, and when it waits (DESIGN.md §4 "Backfills"). Pure: live traffic keeps
 * priority. A backfill reads at a rate that adapts to the live evaluators (additive increase up to
 * `maxRunsPerS`, halved whenever they fall behind), paced by a clock that grants at most a second of
 * credit for time spent idle or paused; and it reads nothing while they lag the runs topic by more than
 * `maxLiveLag` messages.
 */
export interface ThrottleInput {
  /** When the next read may start (paceAfter). */
  readonly nextAtMs: number;
  readonly nowMs: number;
  /** Undefined: not known (the group has no committed offsets yet): the pace alone decides. */
  readonly liveLag: number | undefined;
  readonly maxLiveLag: number;
  readonly lagBackoffMs: number;
}

export function throttleWaitMs(i: ThrottleInput): number {
  if (i.liveLag !== undefined && i.liveLag > i.maxLiveLag) return i.lagBackoffMs;
  return Math.max(0, Math.ceil(i.nextAtMs - i.nowMs));
}

/** Credit a backfill may bank while it reads nothing: a pause is never followed by a burst. */
export const PACE_CREDIT_MS = 1000;

/** The pace clock after reading `runs` at `runsPerS`: each run moves it on by its share of a second. */
export function paceAfter(nextAtMs: number, runs: number, runsPerS: number, nowMs: number): number {
  return Math.max(nextAtMs, nowMs - PACE_CREDIT_MS) + (runs * 1000) / runsPerS;
}

export interface RateInput {
  readonly runsPerS: number;
  readonly maxRunsPerS: number;
  /** How far behind the runs topic the live evaluators are, in ms of live traffic; undefined: not known. */
  readonly liveBehindMs: number | undefined;
  /** Behind by more than this, the backfill halves its rate. */
  readonly behindTargetMs: number;
}

/** The rate a backfill starts at, and never goes below: a twentieth of its most. */
export function minRunsPerS(maxRunsPerS: number): number {
  return Math.max(1, Math.floor(maxRunsPerS / 20));
}

/**
 * The rate after one look at the live evaluators (once a second): halved while they are behind by more
 * than the target, else up by a tenth of the most (so from the start to the most in ~10 s).
 */
export function nextRunsPerS(i: RateInput): number {
  const floor = minRunsPerS(i.maxRunsPerS);
  if (i.liveBehindMs !== undefined && i.liveBehindMs > i.behindTargetMs)
    return Math.max(floor, Math.floor(i.runsPerS / 2));
  return Math.min(i.maxRunsPerS, i.runsPerS + Math.ceil(i.maxRunsPerS / 10));
}

/**
 * The live lag in time: messages behind over the rate the runs topic grows at. Undefined when the lag
 * is not known, or when nothing is arriving (a lag that is not growing holds up no live window).
 */
export function liveBehindMs(lag: number | undefined, appendedPerS: number): number | undefined {
  if (lag === undefined || appendedPerS <= 0) return undefined;
  return (lag * 1000) / appendedPerS;
}

/**
 * Where the live evaluators are in each runs partition: the checkpoint's next offset to process
 * (`p`, in the committed offset's metadata), else the committed offset. The committed offset itself
 * stays at the first run of the oldest open window (a restart must read it again), so it trails the
 * evaluators by up to the longest window: not a lag.
 */
export function evaluatorPositions(
  partitions: readonly { readonly partition: number; readonly offset: string; readonly metadata?: string | null }[],
): Map<number, number> {
  const positions = new Map<number, number>();
  for (const p of partitions) {
    const committed = Number(p.offset);
    if (committed < 0) continue;
    positions.set(p.partition, Math.max(committed, decodeCheckpoint(p.metadata)?.processedUpTo ?? committed));
  }
  return positions;
}

/** The live lag: messages appended to the runs topic that the evaluators have not processed. */
export function groupLag(
  ends: ReadonlyMap<number, number>,
  positions: ReadonlyMap<number, number>,
): number | undefined {
  let lag = 0;
  let known = false;
  for (const [partition, end] of ends) {
    const c = positions.get(partition);
    if (c === undefined || c < 0) continue;
    known = true;
    lag += Math.max(0, end - c);
  }
  return known ? lag : undefined;
}
