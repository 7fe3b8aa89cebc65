import type { AttemptOutcome } from "@runhooks/contracts";

/** The delivery service's counters: plain numbers; metrics.ts exports them. */
export interface Counters {
  windowsRead: number;
  windowsStored: number;
  /** Windows read again (a replay, or a restart before the commit): nothing new was stored. */
  windowsDuplicate: number;
  /** Messages on the windows topic that are not a valid window: logged with their offset, skipped. */
  windowsInvalid: number;
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
}

export function createCounters(): Counters {
  return {
    windowsRead: 0,
    windowsStored: 0,
    windowsDuplicate: 0,
    windowsInvalid: 0,
    windowsWithoutWebhooks: {},
    deliveriesCreated: 0,
    deliveriesFinal: { succeeded: 0, failed: 0 },
    retriesScheduled: 0,
    attempts: {},
    attemptsStale: 0,
    attemptsPublished: 0,
    publishFailures: 0,
    databaseErrors: 0,
  };
}
