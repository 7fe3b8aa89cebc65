import { deleteDeliveryRecords, deleteEmptyWindows, deleteWindowBodies, type Database } from "@runhooks/db";
import type { Logger } from "@runhooks/telemetry";
import { nextBatchStep, retentionPlan, type RetentionSettings } from "./retention-policy.js";

export interface RetentionPass {
  readonly bodies: number;
  readonly deliveries: number;
  readonly windows: number;
}

/** One pass: each kind batch by batch until a short batch, or the pass's share of batches is used. */
export async function runRetentionPass(db: Database, now: Date, settings: RetentionSettings): Promise<RetentionPass> {
  const plan = retentionPlan(now, settings);
  let batches = 0;
  const drain = async (
    before: Date | undefined,
    remove: (db: Database, before: Date, limit: number) => Promise<number>,
  ) => {
    let total = 0;
    if (before === undefined) return total;
    for (;;) {
      const deleted = await remove(db, before, settings.batchSize);
      total += deleted;
      const step = nextBatchStep(deleted, ++batches, settings);
      if (step !== "again") return total;
    }
  };
  const bodies = await drain(plan.bodiesBefore, deleteWindowBodies);
  const deliveries = await drain(plan.recordsBefore, deleteDeliveryRecords);
  const windows = await drain(plan.recordsBefore, deleteEmptyWindows);
  return { bodies, deliveries, windows };
}

/** Runs a pass every `everyMs` (the first one `everyMs` after start); every delivery instance may. */
export function startRetention(o: {
  readonly db: Database;
  readonly settings: RetentionSettings;
  readonly everyMs: number;
  readonly log: Logger;
}): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const pass = async () => {
    try {
      const done = await runRetentionPass(o.db, new Date(), o.settings);
      if (done.bodies + done.deliveries + done.windows > 0)
        o.log("info", "retention deleted old delivery data", { ...done });
    } catch (error) {
      o.log("warn", "retention pass failed; the next one retries", { error: String(error) });
    }
  };
  const timer = setInterval(() => {
    running ??= pass().finally(() => (running = undefined));
  }, o.everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
