import { labelled, observe, type ConsumerLag, type MetricDef } from "@runhooks/telemetry";
import type { Meter } from "@opentelemetry/api";
import type { Counters } from "./counters.js";

/** Every metric the evaluator exports (on /metrics, and over OTLP when configured). */
export const EVALUATOR_METRICS = {
  runsRead: {
    name: "runhooks.evaluator.runs_read",
    kind: "counter",
    help: "Run messages read from the runs topic (consumed).",
  },
  runsMatched: {
    name: "runhooks.evaluator.runs_matched",
    kind: "counter",
    help: "Runs that joined at least one window.",
  },
  runsSkipped: {
    name: "runhooks.evaluator.runs_skipped",
    kind: "counter",
    help: "Runs skipped, by reason (not_ended: no end_time yet).",
  },
  deadLettered: {
    name: "runhooks.evaluator.dead_lettered",
    kind: "counter",
    help: "Messages sent to the dead-letter topic, by reason.",
  },
  windowsEmitted: {
    name: "runhooks.evaluator.windows_emitted",
    kind: "counter",
    help: "Window parts published (a runs partition's share of a window, in pieces of at most 768 KiB).",
  },
  watermarksSent: {
    name: "runhooks.evaluator.watermarks_sent",
    kind: "counter",
    help: "Watermark messages sent (one per windows partition per watermark).",
  },
  ticksRead: { name: "runhooks.evaluator.ticks_read", kind: "counter", help: "Tick messages read." },
  ticksWritten: { name: "runhooks.evaluator.ticks_written", kind: "counter", help: "Tick messages appended." },
  rulesInvalid: {
    name: "runhooks.evaluator.rules_invalid",
    kind: "counter",
    help: "Rule versions whose filter did not validate.",
  },
  ruleErrors: {
    name: "runhooks.evaluator.rule_errors",
    kind: "counter",
    help: 'Runs a rule\'s filter could not judge (verdict "error"), all rules together; per rule see GET /rules/:id/errors.',
  },
  runsHeld: {
    name: "runhooks.evaluator.runs_held",
    kind: "counter",
    help: "Runs a trace-aware rule held until their trace could decide them (its root, or the horizon).",
  },
  tracesEvicted: {
    name: "runhooks.evaluator.traces_evicted",
    kind: "counter",
    help: "Traces decided before their horizon because a runs partition held too many (RUNHOOKS_MAX_OPEN_TRACES, RUNHOOKS_MAX_HELD_RUN_BYTES).",
  },
  ruleVersionsDropped: {
    name: "runhooks.evaluator.rule_versions_dropped",
    kind: "counter",
    help: "Rule versions dropped from the rule book once every runs partition's checkpoint had passed them.",
  },
  traceSnapshotBytes: {
    name: "runhooks.evaluator.trace_snapshot_bytes",
    kind: "counter",
    help: "Bytes of trace snapshots written to the traces topic (open traces per runs partition, before a commit).",
  },
  traceSnapshotsUnnamed: {
    name: "runhooks.evaluator.trace_snapshots_unnamed",
    kind: "counter",
    help: "Trace snapshots too large to name in a commit's metadata (4,096 bytes): a restart refolds the horizon instead.",
  },
  traceSnapshotsRestored: {
    name: "runhooks.evaluator.trace_snapshot_restores",
    kind: "counter",
    help: "Partition starts by outcome: restored from a trace snapshot, or none usable (the horizon refolded).",
  },
  rulesKnown: { name: "runhooks.evaluator.rules_known", kind: "gauge", help: "Rules in the rule book." },
  assignedPartitions: {
    name: "runhooks.evaluator.assigned_partitions",
    kind: "gauge",
    help: "Partitions of the runs topic this instance holds.",
  },
  openWindows: {
    name: "runhooks.evaluator.open_windows",
    kind: "gauge",
    help: "Windows open (not yet closed) on this instance.",
  },
  openTraces: {
    name: "runhooks.evaluator.open_traces",
    kind: "gauge",
    help: "Traces whose candidates or facts a trace-aware rule holds on this instance.",
  },
  heldRunBytes: {
    name: "runhooks.evaluator.held_run_bytes",
    kind: "gauge",
    help: "Bytes of runs waiting for their trace on this instance.",
  },
  consumerLag: {
    name: "runhooks.evaluator.consumer_lag",
    kind: "gauge",
    help: "Messages behind the high watermark, per partition of the runs topic, after the last batch.",
  },
} as const satisfies Record<string, MetricDef>;

export interface EvaluatorGauges {
  readonly rulesKnown: () => number;
  readonly assignedPartitions: () => number;
  readonly openWindows: () => number;
  readonly openTraces: () => number;
  readonly heldRunBytes: () => number;
}

/** Registers the evaluator's metrics; they read the counters at collection time (the hot path only increments). */
export function registerEvaluatorMetrics(meter: Meter, c: Counters, gauges: EvaluatorGauges, lag: ConsumerLag): void {
  const m = EVALUATOR_METRICS;
  observe(meter, m.runsRead, () => c.runsRead);
  observe(meter, m.runsMatched, () => c.runsMatched);
  observe(meter, m.runsSkipped, () => [[{ reason: "not_ended" }, c.runsSkippedNotEnded]]);
  observe(meter, m.deadLettered, () => labelled("reason", c.deadLettered));
  observe(meter, m.windowsEmitted, () => c.windowsEmitted);
  observe(meter, m.watermarksSent, () => c.watermarksSent);
  observe(meter, m.ticksRead, () => c.ticksRead);
  observe(meter, m.ticksWritten, () => c.ticksWritten);
  observe(meter, m.rulesInvalid, () => c.rulesInvalid);
  observe(meter, m.ruleErrors, () => c.ruleErrors);
  observe(meter, m.rulesKnown, gauges.rulesKnown);
  observe(meter, m.assignedPartitions, gauges.assignedPartitions);
  observe(meter, m.openWindows, gauges.openWindows);
  observe(meter, m.runsHeld, () => c.runsHeld);
  observe(meter, m.tracesEvicted, () => c.tracesEvicted);
  observe(meter, m.traceSnapshotBytes, () => c.traceSnapshotBytes);
  observe(meter, m.traceSnapshotsUnnamed, () => c.traceSnapshotsUnnamed);
  observe(meter, m.traceSnapshotsRestored, () => [
    [{ outcome: "restored" }, c.traceSnapshotsRestored],
    [{ outcome: "missed" }, c.traceSnapshotsMissed],
  ]);
  observe(meter, m.ruleVersionsDropped, () => c.ruleVersionsDropped);
  observe(meter, m.openTraces, gauges.openTraces);
  observe(meter, m.heldRunBytes, gauges.heldRunBytes);
  observe(meter, m.consumerLag, () => lag.observations());
}
