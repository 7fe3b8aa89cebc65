import type { AttemptOutcome } from "@runhooks/contracts";

/** The delivery service's counters: plain numbers; metrics.ts exports them. */
export interface Counters {
  /** Window parts read from the windows topic (one runs partition's share of a window each). */
  partsRead: number;
  /** Parts that added nothing, by reason: `window_completed` (an evaluator's refold), `part_seen`. */
  partsDuplicate: Record<string, number>;
  /** Runs partitions' watermarks read from the windows topic. */
  watermarksRead: number;
  /** Windows assembled over every runs partition: one per chunk of at most `max_runs` runs. */
  windowsCompleted: number;
  windowsStored: number;
  /** Windows completed again (read again after a restart before the commit): nothing new was stored. */
  windowsDuplicate: number;
  /**
   * Messages on the windows topic that are neither a valid part nor a valid watermark, and a bundle's
   * entries refused alone as invalid: dead-lettered.
   */
  windowsInvalid: number;
  /**
   * Messages of the windows topic put on its dead-letter topic, by reason: `invalid`, and parts that do
   * not match the rule store (`unknown_rule`, `unknown_rule_version`, `tenant_mismatch`).
   */
  windowsDeadLettered: Record<string, number>;
  /** Windows with nothing to deliver to, by reason (`no_webhooks`, `unknown_rule_version`). */
  windowsWithoutWebhooks: Record<string, number>;
  deliveriesCreated: number;
  /** Deliveries that reached a final state here, by state. */
  deliveriesFinal: Record<"succeeded" | "failed", number>;
  retriesScheduled: number;
  /** Attempts recorded, by outcome; `interrupted` for those whose worker stopped mid-attempt. */
  attempts: Partial<Record<AttemptOutcome, number>>;
  /** Attempts whose delivery had been reclaimed meanwhile (lease expired): recorded, not applied. */
  attemptsStale: number;
  attemptsPublished: number;
  publishFailures: number;
  databaseErrors: number;
  /**
   * Attempts to store a chunk of windows that PostgreSQL refused (a constraint, a type): a defect, not
   * an outage. The chunk is tried again (nothing is skipped), so its windows partition waits meanwhile.
   */
  windowsStoreRefused: number;
}

export function createCounters(): Counters {
  return {
    partsRead: 0,
    partsDuplicate: {},
    watermarksRead: 0,
    windowsCompleted: 0,
    windowsStored: 0,
    windowsDuplicate: 0,
    windowsInvalid: 0,
    windowsDeadLettered: {},
    windowsWithoutWebhooks: {},
    deliveriesCreated: 0,
    deliveriesFinal: { succeeded: 0, failed: 0 },
    retriesScheduled: 0,
    attempts: {},
    attemptsStale: 0,
    attemptsPublished: 0,
    publishFailures: 0,
    databaseErrors: 0,
    windowsStoreRefused: 0,
  };
}
