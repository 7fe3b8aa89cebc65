import { labelled, observe, type MetricDef } from "@runhooks/telemetry";
import type { Meter } from "@opentelemetry/api";
import type { RunOutcome } from "./run-outcome.js";

/** What a backfill process counts; plain numbers the runner increments, read when metrics are collected. */
export interface BackfillCounters {
  /** Runs-topic messages judged (progress recorded with a checkpoint). */
  runsRead: number;
  /** Window chunks stored with their deliveries. */
  windowsStored: number;
  /** Runs of a backfill in this process, by how they ended. */
  readonly runsEnded: Record<RunOutcome, number>;
  /** 1 while this process runs a backfill. */
  running: number;
}

export function createBackfillCounters(): BackfillCounters {
  return { runsRead: 0, windowsStored: 0, runsEnded: { succeeded: 0, lost: 0, failed: 0, stopped: 0 }, running: 0 };
}

/** Every metric the backfill service exports (on /metrics, and over OTLP when configured). */
export const BACKFILL_METRICS = {
  runsRead: {
    name: "runhooks.backfill.runs_read",
    kind: "counter",
    help: "Runs-topic messages a backfill judged (counted as each batch's windows and checkpoint are stored).",
  },
  windowsStored: {
    name: "runhooks.backfill.windows_stored",
    kind: "counter",
    help: "Window chunks a backfill stored with their deliveries.",
  },
  runsEnded: {
    name: "runhooks.backfill.runs_ended",
    kind: "counter",
    help: "Backfill runs of this process by outcome (succeeded, failed, lost: cancelled or taken over, stopped: resumed later).",
  },
  running: { name: "runhooks.backfill.running", kind: "gauge", help: "1 while this process runs a backfill." },
} as const satisfies Record<string, MetricDef>;

export function registerBackfillMetrics(meter: Meter, c: BackfillCounters): void {
  const m = BACKFILL_METRICS;
  observe(meter, m.runsRead, () => c.runsRead);
  observe(meter, m.windowsStored, () => c.windowsStored);
  observe(meter, m.runsEnded, () => labelled("outcome", c.runsEnded));
  observe(meter, m.running, () => c.running);
}
