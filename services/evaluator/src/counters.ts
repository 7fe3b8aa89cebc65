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
  /** Runs a trace-aware rule held until their trace settled them. */
  runsHeld: number;
  /** Traces decided early because a partition held too many (RUNHOOKS_MAX_OPEN_TRACES, _MAX_HELD_RUN_BYTES). */
  tracesEvicted: number;
  /** Verdicts of "error" (a filter that could not judge a run), all rules together; per rule on the rule-errors topic. */
  ruleErrors: number;
  /**
   * Trace snapshots written (empty ones are not), their bytes (JSON, before compression), the ms the
   * fold's thread spent taking and encoding them, and the ms their flushes waited for Kafka to take them.
   */
  traceSnapshotsWritten: number;
  traceSnapshotBytes: number;
  traceSnapshotTakeMs: number;
  traceSnapshotWriteMs: number;
  /** Restarts that restored a partition's open traces from a snapshot, and that found none usable. */
  traceSnapshotsRestored: number;
  traceSnapshotsMissed: number;
  /** Snapshots written but too large to name in a commit (a restart refolds the horizon instead). */
  traceSnapshotsUnnamed: number;
  /** Rule versions dropped from the book once no refold could need them (version-drops.ts). */
  ruleVersionsDropped: number;
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
    runsHeld: 0,
    tracesEvicted: 0,
    ruleErrors: 0,
    traceSnapshotsWritten: 0,
    traceSnapshotBytes: 0,
    traceSnapshotTakeMs: 0,
    traceSnapshotWriteMs: 0,
    traceSnapshotsRestored: 0,
    traceSnapshotsMissed: 0,
    traceSnapshotsUnnamed: 0,
    ruleVersionsDropped: 0,
  };
}
