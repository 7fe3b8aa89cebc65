/**
 * What the retention job deletes, decided from the time and the settings (pure). Bodies — the runs a
 * window carried, inputs and outputs included — are kept for `bodyDays`; deliveries, their attempts
 * and their windows' rows for `recordDays`. 0 keeps them for ever.
 */

export interface RetentionSettings {
  readonly bodyDays: number;
  readonly recordDays: number;
  /** Rows one statement deletes at most. */
  readonly batchSize: number;
  /** Statements one pass makes at most; the next pass goes on where it stopped. */
  readonly maxBatchesPerPass: number;
}

export const DEFAULT_RETENTION: RetentionSettings = {
  bodyDays: 30,
  recordDays: 90,
  batchSize: 500,
  maxBatchesPerPass: 200,
};

const DAY_MS = 86_400_000;

export interface RetentionPlan {
  /** Bodies of windows received before this are dropped; undefined: kept. */
  readonly bodiesBefore: Date | undefined;
  /** Deliveries finished, and windows received, before this are deleted; undefined: kept. */
  readonly recordsBefore: Date | undefined;
}

export function retentionPlan(now: Date, settings: RetentionSettings): RetentionPlan {
  const before = (days: number) => (days > 0 ? new Date(now.getTime() - days * DAY_MS) : undefined);
  return { bodiesBefore: before(settings.bodyDays), recordsBefore: before(settings.recordDays) };
}

export type BatchStep = "again" | "next_kind" | "pause";

/**
 * After a statement deleted `deleted` rows, the `batches`-th of the pass: a full batch means more may
 * be waiting (again, unless the pass used its share: pause until the next pass); a short one means
 * this kind is done.
 */
export function nextBatchStep(deleted: number, batches: number, settings: RetentionSettings): BatchStep {
  if (deleted < settings.batchSize) return "next_kind";
  return batches >= settings.maxBatchesPerPass ? "pause" : "again";
}
