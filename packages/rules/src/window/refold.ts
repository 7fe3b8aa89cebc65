import type { Checkpoint } from "./checkpoint.js";

/**
 * Where a restart refolds a partition from (DESIGN.md §4). The fold is deterministic, so reading the
 * log again from far enough back rebuilds every window still open at the checkpoint exactly; what was
 * closed and published below the checkpoint is then suppressed by offset.
 */

/**
 * The time a refold starts at: `S - longest window - 2 × longest horizon`. Every run of a window still
 * open at S joined it after S - W (an open window ends after S, so it starts after S - W), and so did
 * the earlier pieces of those windows, which fixes their piece numbers. A trace-aware candidate that
 * joins after S - W was read less than a horizon H before it joined; whether it was still waiting then
 * depends on the facts its earlier moments remembered, read less than H before those: every message
 * that decides an open window lies after S - W - 2H (DESIGN.md §4). What is read before S - W is the
 * trace prefix: only the trace fold needs it (`streamPrefixStep`).
 */
export function refoldFromTime(checkpoint: Checkpoint, longestWindowMs: number, longestHorizonMs = 0): number {
  return checkpoint.streamTime - longestWindowMs - 2 * longestHorizonMs;
}

/**
 * The offset a refold starts at, from the committed offset (-1: none) and the first offset at or after
 * `refoldFromTime` (-1: no message is that recent). The lower of the two, so a refold never starts past
 * what the commit left to read; with neither, the start of the partition.
 */
export function refoldOffset(committedOffset: number, offsetAtRefoldTime: number): number {
  if (offsetAtRefoldTime >= 0 && (committedOffset < 0 || offsetAtRefoldTime < committedOffset))
    return offsetAtRefoldTime;
  return Math.max(committedOffset, 0);
}

/**
 * The time from which some refold may still judge a run, given every runs partition's committed
 * checkpoint (undefined for a partition without one): the lowest `refoldFromTime` among them. Rule
 * versions superseded before it can be dropped (`dropVersionsBefore`, DESIGN.md §3). Undefined when no
 * partition is known or one has no checkpoint: that partition folds from wherever its offset is, with
 * runs of any age, so nothing may be dropped.
 *
 * Sound because a committed checkpoint's stream time never decreases (a refold commits nothing below
 * the checkpoint it refolds from) and the longest window and horizon never shrink: whichever instance
 * is assigned a partition later refolds from at or after this time.
 */
export function versionsNeededFrom(
  checkpoints: readonly (Checkpoint | undefined)[],
  longestWindowMs: number,
  longestHorizonMs: number,
): number | undefined {
  if (checkpoints.length === 0) return undefined;
  let from = Number.POSITIVE_INFINITY;
  for (const c of checkpoints) {
    if (c === undefined) return undefined;
    const t = refoldFromTime(c, longestWindowMs, longestHorizonMs);
    if (t < from) from = t;
  }
  return from;
}
