import type { FoldState, TraceState } from "@runhooks/rules";
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
  readonly fold: FoldState;
  /** The trace fold in front of `fold` (trace-aware rules): with it, a `StreamState`. */
  readonly traces: TraceState;
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
export type PartitionStart = Pick<PartitionState, "phase" | "seekTarget" | "suppressBelow" | "nextOffset">;

/**
 * Decides where a newly assigned partition folds from. Without a checkpoint: from the first batch's
 * offset, suppressing nothing. With one: from `refoldOffset` (a seek, unless the batch starts there),
 * suppressing what the checkpoint says was already published.
 */
export function partitionStart(
  firstOffset: number,
  refold: { readonly offset: number; readonly suppressBelow: number } | undefined,
): PartitionStart {
  if (refold === undefined)
    return { phase: "active", seekTarget: firstOffset, suppressBelow: 0, nextOffset: firstOffset };
  return {
    phase: refold.offset === firstOffset ? "active" : "seeking",
    seekTarget: refold.offset,
    suppressBelow: refold.suppressBelow,
    nextOffset: refold.offset,
  };
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
