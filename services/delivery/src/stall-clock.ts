import { createStallLog, TICK_MS } from "./stall-log.js";

/**
 * Observes how long this thread's event loop was stalled (not running: stopped, paused by GC, starved
 * of CPU): a ticker notes every gap between its ticks beyond the interval and some slack (stall-log.ts).
 * Attempts ask `stalledSince(mark)` whether they were watched for their whole deadline
 * (deadline-verdict.ts).
 */
export interface StallClock {
  /** A mark to measure from (monotonic ms). */
  mark(): number;
  /** Milliseconds of stall observed since `mark`, including a stall the ticker has not seen yet. */
  stalledSince(mark: number): number;
  stop(): void;
}

export function startStallClock(now: () => number = () => performance.now()): StallClock {
  const log = createStallLog(now());
  const timer = setInterval(() => log.tick(now()), TICK_MS);
  timer.unref();
  return {
    mark: now,
    stalledSince: (mark) => log.stalledSince(mark, now()),
    stop: () => clearInterval(timer),
  };
}
