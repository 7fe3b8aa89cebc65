import { oldestNeededOffset, type StreamState } from "@runhooks/rules";

/**
 * Where a batch is cut into flushes (publish what it closed, then commit its checkpoint): at its end,
 * and within a long batch every CUT_EVERY messages, CUT_AFTER_MS, or CUT_BYTES of closed parts, so
 * that what waits in memory stays bounded. Flushes run off the fetch loop (FlushQueue), at most
 * FLUSH_DEPTH of them pending per partition. Cut points never change what is published, only when:
 * suppression after a restart is by offset.
 */
export const CUT_EVERY = 2500;
export const CUT_AFTER_MS = 1000;
export const CUT_BYTES = 6 * 1024 * 1024;
export const FLUSH_DEPTH = 3;

/** How often (in messages) a batch checks whether to stop, and reads the clock: both cost more than folding a tick. */
export const CHECK_EVERY = 64;

/** Whether what a batch read since its last cut is due to be cut now (messages, bytes of parts, ms). */
export function cutDue(messages: number, windowBytes: number, sinceCutMs: number): boolean {
  return messages >= CUT_EVERY || windowBytes >= CUT_BYTES || sinceCutMs >= CUT_AFTER_MS;
}

/**
 * The offset a cut commits: where the next fold starts, but never past the first run of a window still
 * open, nor of a candidate still waiting for its trace (a restart must read them again).
 */
export function commitPoint(state: StreamState, nextOffset: number): number {
  return Math.min(oldestNeededOffset(state) ?? nextOffset, nextOffset);
}
