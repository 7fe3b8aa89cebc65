import type { AttemptOutcome } from "@runhooks/contracts";
import { recordAttempts, type Database, type FinishedAttempt } from "@runhooks/db";
import type { Counters } from "./counters.js";
import type { Logger } from "@runhooks/telemetry";
import type { PublishableAttempt, Publisher } from "./publisher.js";

export interface Finished extends FinishedAttempt {
  readonly windowId: string;
  readonly ruleId: string;
  readonly webhookId: string;
}

export interface Recorder {
  /** Queues a finished attempt; it is written with others in one statement, soon. */
  add(attempt: Finished): void;
  /** Attempts finished but not yet written. */
  readonly backlog: number;
  /** Writes everything queued; retries while Postgres is down, up to `timeoutMs`. */
  flush(timeoutMs: number): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Writes finished attempts in batches — the attempt rows and the deliveries' new states in one
 * statement — then hands them to the publisher. While Postgres is unreachable the batch is kept and
 * retried; the deliveries stay leased meanwhile.
 */
export function createRecorder(o: {
  readonly db: Database;
  readonly publisher: Publisher;
  readonly log: Logger;
  readonly counters: Counters;
  readonly maxBatch: number;
  /** How long the first attempt of a batch may wait for company. */
  readonly maxDelayMs: number;
  readonly onDatabase: (ok: boolean) => void;
}): Recorder {
  let queue: Finished[] = [];
  let writing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  let giveUpAt = Number.POSITIVE_INFINITY;

  async function write(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, o.maxBatch);
      try {
        const recorded = await recordAttempts(o.db, batch);
        queue = queue.slice(batch.length);
        o.onDatabase(true);
        if (failures > 0) o.log("info", "recording attempts again", { after: failures });
        failures = 0;
        account(batch, recorded);
      } catch (error) {
        o.counters.databaseErrors++;
        o.onDatabase(false);
        if (failures++ === 0) o.log("warn", "could not record attempts; retrying", { attempts: batch.length, error: String(error) });
        if (Date.now() > giveUpAt) return;
        await sleep(Math.min(2000, 100 * failures));
      }
    }
  }

  function account(batch: readonly Finished[], recorded: Awaited<ReturnType<typeof recordAttempts>>): void {
    const byKey = new Map(batch.map((a) => [`${a.deliveryId}/${a.attempt}`, a]));
    const publishable: PublishableAttempt[] = [];
    for (const r of recorded) {
      const a = byKey.get(`${r.deliveryId}/${r.attempt}`);
      if (!a) continue;
      const outcome = a.outcome as AttemptOutcome;
      o.counters.attempts[outcome] = (o.counters.attempts[outcome] ?? 0) + 1;
      if (!r.applied) o.counters.attemptsStale++;
      else if (a.nextStatus === "pending") o.counters.retriesScheduled++;
      else o.counters.deliveriesFinal[a.nextStatus]++;
      publishable.push({ ...a, outcome, rowId: r.id });
    }
    o.publisher.publish(publishable);
  }

  function kick(): void {
    if (writing) return;
    writing = write().finally(() => {
      writing = undefined;
      if (Date.now() > giveUpAt) return;
      if (queue.length >= o.maxBatch) kick();
      else if (queue.length > 0) schedule();
    });
  }

  function schedule(): void {
    timer ??= setTimeout(() => {
      timer = undefined;
      kick();
    }, o.maxDelayMs);
  }

  return {
    add(attempt) {
      queue.push(attempt);
      if (queue.length >= o.maxBatch) kick();
      else schedule();
    },
    get backlog() {
      return queue.length;
    },
    async flush(timeoutMs) {
      giveUpAt = Date.now() + timeoutMs;
      if (timer) clearTimeout(timer);
      timer = undefined;
      while (queue.length > 0 || writing) {
        if (writing) await writing;
        else kick();
        if (Date.now() > giveUpAt) break;
      }
      if (queue.length > 0) o.log("warn", "stopping with attempts unrecorded; their leases will expire and they will be retried", { attempts: queue.length });
      giveUpAt = Number.POSITIVE_INFINITY;
    },
  };
}
