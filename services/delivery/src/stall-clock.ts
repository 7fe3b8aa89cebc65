/**
 * Observes how long this thread's event loop was stalled (not running: stopped, paused by GC, starved
 * of CPU): a ticker notes every gap between its ticks beyond the interval and some slack. Attempts ask
 * `stalledSince(mark)` whether they were watched for their whole deadline (deadline-verdict.ts).
 */
export interface StallClock {
  /** A mark to measure from (monotonic ms). */
  mark(): number;
  /** Milliseconds of stall observed since `mark`, including a stall the ticker has not seen yet. */
  stalledSince(mark: number): number;
  stop(): void;
}

const TICK_MS = 100;
/** Gaps shorter than this past the interval are ordinary jitter, not a stall. */
const SLACK_MS = 50;
/** Attempts last seconds: the latest stalls are all that is ever asked about. */
const KEEP = 256;

export function startStallClock(now: () => number = () => performance.now()): StallClock {
  let last = now();
  /** Stalls observed: when the ticker saw each end, and how long it was. */
  const stalls: { at: number; ms: number }[] = [];
  const timer = setInterval(() => {
    const t = now();
    const gap = t - last - TICK_MS;
    last = t;
    if (gap > SLACK_MS) {
      stalls.push({ at: t, ms: gap });
      if (stalls.length > KEEP) stalls.shift();
    }
  }, TICK_MS);
  timer.unref();
  return {
    mark: now,
    stalledSince(mark) {
      const t = now();
      // The loop may have just resumed, with this attempt's timer run before the ticker.
      let since = Math.max(0, Math.min(t - last - TICK_MS - SLACK_MS, t - mark));
      // A stall seen after the mark ended then: only its part after the mark counts.
      for (let i = stalls.length - 1; i >= 0 && stalls[i]!.at > mark; i--) since += Math.min(stalls[i]!.ms, stalls[i]!.at - mark);
      return since;
    },
    stop: () => clearInterval(timer),
  };
}
