/**
 * The stalls of an event loop, from the times a ticker ran at. Pure: every time is passed in
 * (monotonic ms). A tick that comes later than its interval plus some slack ends a stall of the
 * difference; an attempt asks how much stall fell after its start (deadline-verdict.ts).
 */
export interface StallLog {
  /** The ticker ran at `t`. */
  tick(t: number): void;
  /** Milliseconds of stall since `mark`, at `t`, including a stall no tick has ended yet. */
  stalledSince(mark: number, t: number): number;
}

/** The ticker's interval. */
export const TICK_MS = 100;
/** Gaps shorter than this past the interval are ordinary jitter, not a stall. */
export const SLACK_MS = 50;
/** Attempts last seconds: the latest stalls are all that is ever asked about. */
const KEEP = 256;

export function createStallLog(start: number): StallLog {
  let last = start;
  /** Stalls observed: when the ticker saw each end, and how long it was. */
  const stalls: { at: number; ms: number }[] = [];
  return {
    tick(t) {
      const gap = t - last - TICK_MS;
      last = t;
      if (gap > SLACK_MS) {
        stalls.push({ at: t, ms: gap });
        if (stalls.length > KEEP) stalls.shift();
      }
    },
    stalledSince(mark, t) {
      // The loop may have just resumed, with this attempt's timer run before the ticker.
      let since = Math.max(0, Math.min(t - last - TICK_MS - SLACK_MS, t - mark));
      // A stall seen after the mark ended then: only its part after the mark counts.
      for (let i = stalls.length - 1; i >= 0 && stalls[i]!.at > mark; i--)
        since += Math.min(stalls[i]!.ms, stalls[i]!.at - mark);
      return since;
    },
  };
}
