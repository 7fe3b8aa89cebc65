/**
 * The replay-range quota of `POST /rules/:id/replay`: one call re-queues every window of the rule that
 * started in `[from, to)`, so its range bounds the work a single request can start. Pure. The longest
 * range is `ApiLimits.maxReplayRangeMs` (RUNHOOKS_API_MAX_REPLAY_HOURS, default 7 days).
 */

export type ReplayRangeDecision =
  { readonly ok: true } | { readonly ok: false; readonly rangeMs: number; readonly maxMs: number };

/** `fromMs < toMs` is checked before (a 400); here only the length. */
export function decideReplayRange(fromMs: number, toMs: number, maxMs: number): ReplayRangeDecision {
  const rangeMs = toMs - fromMs;
  return rangeMs <= maxMs ? { ok: true } : { ok: false, rangeMs, maxMs };
}

/** `7 days`, `36 hours`, `90 minutes`, `12.5 s`: the largest whole unit that fits, for messages. */
export function describeDuration(ms: number): string {
  const units: readonly [number, string][] = [
    [86_400_000, "days"],
    [3_600_000, "hours"],
    [60_000, "minutes"],
  ];
  for (const [size, name] of units) if (ms >= 2 * size) return `${+(ms / size).toFixed(1)} ${name}`;
  return `${+(ms / 1000).toFixed(1)} s`;
}
