import type { AttemptOutcome } from "@runhooks/contracts";
import { recordAttempts, type Database, type FinishedAttempt } from "@runhooks/db";
import type { Counters } from "./counters.js";
import type { Logger } from "@runhooks/telemetry";
import type { EndedDelivery, HealthKeeper } from "./health-keeper.js";
import type { FailureReason } from "./policy.js";
import type { Publisher } from "./publisher.js";

/** A finished attempt as a worker hands it over: the recorder decides whether it was published. */
export interface Finished extends Omit<FinishedAttempt, "published"> {
  readonly windowId: string;
  readonly tenantId: string;
  readonly ruleId: string;
  readonly webhookId: string;
  readonly outcome: AttemptOutcome;
  /** Why the delivery failed, when this attempt ended it failed. */
  readonly reason?: FailureReason | undefined;
}

interface Queued extends Finished {
  /** Its message is on the attempts topic (set once, so a batch retried while Postgres is down is not sent again). */
  published: boolean;
}

export interface Recorder {
  /** Queues a finished attempt; it is published and written with others, soon. */
  add(attempt: Finished): void;
  /** Attempts finished but not yet written. */
  readonly backlog: number;
  /** Attempts finished but neither on the attempts topic nor written. */
  readonly unpublished: number;
  /** The deliveries of attempts finished but not yet written: their leases are renewed until they are. */
  holding(): { id: string; attempt: number }[];
  /** Writes everything queued; retries while Postgres is down, up to `timeoutMs`. */
  flush(timeoutMs: number): Promise<void>;
}

const PUBLISH_RETRY_MS = 5000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Publishes finished attempts to the attempts topic, then writes them in batches — the attempt rows
 * (marked published) and the deliveries' new states in one statement. Publishing first means each row
 * is written once; if the process dies in between, the topic holds an attempt whose row the reaper
 * records as interrupted (the endpoint may have seen it: both say so). When Kafka fails the attempts
 * are recorded unpublished and the sweeper publishes them. While Postgres is unreachable the batch is
 * kept and retried; the deliveries stay leased meanwhile.
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
  /** Told of the deliveries each batch ended (succeeded or failed): their webhooks' health. */
  readonly health?: HealthKeeper;
}): Recorder {
  let queue: Queued[] = [];
  let writing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  let publishFailing = false;
  /** While Kafka fails, batches are recorded unpublished without waiting for it, and it is tried again from here. */
  let publishRetryAt = 0;
  let giveUpAt = Number.POSITIVE_INFINITY;

  async function publish(batch: Queued[]): Promise<void> {
    const pending = batch.filter((a) => !a.published);
    if (pending.length === 0) return;
    try {
      await o.publisher.produce(pending);
      for (const a of pending) a.published = true;
      if (publishFailing) o.log("info", "publishing attempts again");
      publishFailing = false;
    } catch (error) {
      o.counters.publishFailures += pending.length;
      publishRetryAt = Date.now() + PUBLISH_RETRY_MS;
      if (!publishFailing)
        o.log("warn", "could not publish attempts; recording them for the sweeper", {
          attempts: pending.length,
          error: String(error),
        });
      publishFailing = true;
    }
  }

  async function write(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, o.maxBatch);
      if (Date.now() >= publishRetryAt) await publish(batch);
      try {
        const recorded = await recordAttempts(o.db, batch);
        queue = queue.slice(batch.length);
        o.onDatabase(true);
        if (failures > 0) o.log("info", "recording attempts again", { after: failures });
        failures = 0;
        account(batch, recorded);
        await noteHealth(batch, recorded);
      } catch (error) {
        o.counters.databaseErrors++;
        o.onDatabase(false);
        if (failures++ === 0)
          o.log("warn", "could not record attempts; retrying", { attempts: batch.length, error: String(error) });
        if (Date.now() > giveUpAt) return;
        await sleep(Math.min(2000, 100 * failures));
      }
    }
  }

  function account(batch: readonly Queued[], recorded: Awaited<ReturnType<typeof recordAttempts>>): void {
    const byKey = new Map(batch.map((a) => [`${a.deliveryId}/${a.attempt}`, a]));
    for (const r of recorded) {
      const a = byKey.get(`${r.deliveryId}/${r.attempt}`);
      if (!a) continue;
      o.counters.attempts[a.outcome] = (o.counters.attempts[a.outcome] ?? 0) + 1;
      if (!r.applied) o.counters.attemptsStale++;
      else if (a.nextStatus === "pending") o.counters.retriesScheduled++;
      else o.counters.deliveriesFinal[a.nextStatus]++;
    }
  }

  /** After the batch is recorded: a failure here is logged, never a reason to record the batch again. */
  async function noteHealth(batch: readonly Queued[], recorded: Awaited<ReturnType<typeof recordAttempts>>) {
    if (!o.health) return;
    const applied = new Set(recorded.filter((r) => r.applied).map((r) => `${r.deliveryId}/${r.attempt}`));
    const ended: EndedDelivery[] = [];
    for (const a of batch) {
      if (a.nextStatus === "pending" || !applied.has(`${a.deliveryId}/${a.attempt}`)) continue;
      ended.push({
        deliveryId: a.deliveryId,
        windowId: a.windowId,
        tenantId: a.tenantId,
        ruleId: a.ruleId,
        webhookId: a.webhookId,
        attempt: a.attempt,
        outcome: a.outcome,
        ended: a.nextStatus,
        reason: a.reason,
        at: a.startedAt.getTime() + a.durationMs,
      });
    }
    try {
      await o.health.note(ended);
    } catch (error) {
      o.log("warn", "could not update webhook health", { deliveries: ended.length, error: String(error) });
    }
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
      // An interrupted attempt's outcome is unknown: the attempts topic carries known outcomes only (its
      // row is marked published so the sweeper leaves it, as the reaper's are).
      queue.push({ ...attempt, published: attempt.outcome === "interrupted" });
      if (queue.length >= o.maxBatch) kick();
      else schedule();
    },
    holding: () => queue.map((a) => ({ id: a.deliveryId, attempt: a.attempt })),
    get backlog() {
      return queue.length;
    },
    get unpublished() {
      let n = 0;
      for (const a of queue) if (!a.published) n++;
      return n;
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
      if (queue.length > 0)
        o.log("warn", "stopping with attempts unrecorded; their leases will expire and they will be retried", {
          attempts: queue.length,
        });
      giveUpAt = Number.POSITIVE_INFINITY;
    },
  };
}
