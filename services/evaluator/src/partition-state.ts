import type { FoldState, Restore, SnapshotRef, TraceState } from "@runhooks/rules";
import type { FlushQueue } from "./flush-queue.js";

/**
 * One partition's progress. `suppressBelow` is the checkpoint's processed-up-to offset: while refolding
 * after a restart, parts closed and messages dead-lettered below it were already published.
 */
export interface PartitionState {
  phase: "seeking" | "active";
  seekTarget: number;
  committedOffset: number;
  suppressBelow: number;
  /**
   * While refolding below `suppressBelow`, the stream time (the checkpoint's minus the longest window)
   * before which only the trace fold runs (DESIGN.md §4, restart); -Infinity: none.
   */
  windowsFrom: number;
  readonly fold: FoldState;
  /** The trace fold in front of `fold` (trace-aware rules): with it, a `StreamState`. */
  readonly traces: TraceState;
  /**
   * While a restart from a trace snapshot refolds the windows below the snapshot's cut (DESIGN.md §4,
   * restart): the restored state, whose runs' bytes the refold reads again. Undefined once past it.
   */
  restore: Restore | undefined;
  /** The last trace snapshot written (or restored from): what a commit names. */
  snapshot: SnapshotRef | undefined;
  /** Wall-clock ms of the last snapshot taken: only decides when the next one is. */
  snapshotAt: number;
  nextOffset: number;
  /** Wall-clock ms of the last message read: only decides when an idle partition gets a tick. */
  lastReadAt: number;
  tickInFlight: boolean;
  /** The stream time of the last watermark this fold's flushes send (undefined: none yet). */
  lastWatermark: number | undefined;
  /** Publishing and committing of this fold's cuts, in order, off the fetch loop. */
  readonly flushes: FlushQueue;
}

/** Where an assigned partition's fold starts, and whether its first batch must wait for a seek. */
export type PartitionStart = Pick<
  PartitionState,
  "phase" | "seekTarget" | "suppressBelow" | "windowsFrom" | "nextOffset"
>;

/**
 * Decides where a newly assigned partition folds from. Without a checkpoint: from the first batch's
 * offset, suppressing nothing. With one: from `refoldOffset` (a seek, unless the batch starts there),
 * suppressing what the checkpoint says was already published, folding only traces before `windowsFrom`.
 */
export function partitionStart(
  firstOffset: number,
  refold: { readonly offset: number; readonly suppressBelow: number; readonly windowsFrom: number } | undefined,
): PartitionStart {
  if (refold === undefined)
    return {
      phase: "active",
      seekTarget: firstOffset,
      suppressBelow: 0,
      windowsFrom: Number.NEGATIVE_INFINITY,
      nextOffset: firstOffset,
    };
  return {
    phase: refold.offset === firstOffset ? "active" : "seeking",
    seekTarget: refold.offset,
    suppressBelow: refold.suppressBelow,
    windowsFrom: refold.windowsFrom,
    nextOffset: refold.offset,
  };
}

/**
 * Whether a message is in the refold's trace prefix: already processed (below `suppressBelow`) and
 * read before `windowsFrom` in stream time (`at`), so it can touch no window still open at the
 * checkpoint; only the trace-aware rules judge it and only the trace fold folds it.
 */
export function inTracePrefix(
  s: Pick<PartitionState, "suppressBelow" | "windowsFrom">,
  offset: number,
  at: number,
): boolean {
  return offset < s.suppressBelow && at < s.windowsFrom;
}

/**
 * Whether a batch of a seeking partition was fetched after its seek: a batch fetched before the seek
 * starts at the committed offset; the one after starts at the target.
 */
export function followsSeek(firstOffset: number, s: Pick<PartitionState, "seekTarget" | "committedOffset">): boolean {
  return firstOffset === s.seekTarget || (firstOffset > s.seekTarget && firstOffset < s.committedOffset);
}

/** Where a partition starts over after a failed flush: its last commit, or where its fold began. */
export function restartOffset(s: Pick<PartitionState, "seekTarget" | "committedOffset">): number {
  return s.committedOffset >= 0 ? s.committedOffset : s.seekTarget;
}
