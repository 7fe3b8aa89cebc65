/** The evaluator's counters: plain numbers the hot path increments; metrics.ts exports them. */
export interface Counters {
  runsRead: number;
  runsMatched: number;
  runsSkippedNotEnded: number;
  deadLettered: Record<string, number>;
  /** Window parts published. */
  windowsEmitted: number;
  /** Watermark messages sent (one per windows partition per watermark). */
  watermarksSent: number;
  ticksRead: number;
  ticksWritten: number;
  rulesInvalid: number;
  /** Verdicts of "error" (a filter that could not judge a run), all rules together; per rule on the rule-errors topic. */
  ruleErrors: number;
}

export function createCounters(): Counters {
  return {
    runsRead: 0,
    runsMatched: 0,
    runsSkippedNotEnded: 0,
    deadLettered: {},
    windowsEmitted: 0,
    watermarksSent: 0,
    ticksRead: 0,
    ticksWritten: 0,
    rulesInvalid: 0,
    ruleErrors: 0,
  };
}
