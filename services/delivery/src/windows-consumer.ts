import { CONSUMER_NOT_STARTED, nextConsumerHealth, type ConsumerEvent } from "./consumer-health.js";
import type { Database } from "@runhooks/db";
import type { Consumer, EachBatchPayload, Kafka } from "kafkajs";
import type { AttemptObserver } from "./attempt-observer.js";
import type { Counters } from "./counters.js";
import type { Logger } from "@runhooks/telemetry";
import type { PayloadCache } from "./payload-cache.js";
import type { WebhookCache } from "./webhook-cache.js";
import type { Workers } from "./workers.js";
import { decodeBatch, nextOffset } from "./window-batch.js";
import { storeBatch } from "./window-store.js";

export interface WindowsConsumerOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly groupId: string;
  readonly sessionTimeoutMs: number;
  readonly db: Database;
  readonly webhooks: WebhookCache;
  readonly payloads: PayloadCache;
  readonly log: Logger;
  readonly counters: Counters;
  /** Called after new deliveries were stored pending, so the workers look at once. */
  readonly onStored: () => void;
  /**
   * The workers of this process: deliveries they have room for are stored already claimed by this
   * process and handed straight to them — a first attempt needs no claim.
   */
  readonly workers: Pick<Workers, "reserve" | "release" | "adopt" | "roomOpened" | "worthWaiting">;
  readonly leaseMs: number;
  readonly instanceId: string;
  /** Called with the outcome of each database operation (health). */
  readonly onDatabase: (ok: boolean) => void;
  /** Keeps each window's trace context for its attempts' spans. */
  readonly observer: Pick<AttemptObserver, "windowRead">;
  /** Lets metrics follow the consumer (its lag per partition). */
  readonly observeConsumer?: (consumer: Consumer) => void;
}

export interface WindowsConsumer {
  /** Undefined while it runs; otherwise why not (/healthz). */
  problem(): string | undefined;
  stop(): Promise<void>;
}

/**
 * Reads `runhooks.windows` and turns each window into one stored delivery per webhook of its rule
 * version. A batch's offsets are committed only once its deliveries are stored; while Postgres is
 * unreachable the batch is retried (heartbeating), so nothing is skipped.
 */
export async function startWindowsConsumer(o: WindowsConsumerOptions): Promise<WindowsConsumer> {
  let health = CONSUMER_NOT_STARTED;
  let stopping = false;
  const on = (event: ConsumerEvent) => (health = nextConsumerHealth(health, event));
  const newConsumer = (): Consumer => {
    const c = o.kafka.consumer({
      groupId: o.groupId,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: Math.min(1000, Math.floor(o.sessionTimeoutMs / 3)),
      maxWaitTimeInMs: 100,
    });
    o.observeConsumer?.(c);
    c.on(c.events.CRASH, (e) => {
      // kafkajs restarts a consumer after a retriable error; one it gives up on (e.g. "the coordinator
      // is not aware of this member" after the process was stopped longer than the session) is
      // replaced here by a new one that joins the group afresh.
      const replace = !e.payload.restart && !stopping && c === consumer;
      on({ kind: "crashed", restart: e.payload.restart || replace, error: String(e.payload.error) });
      o.log("error", "windows consumer crashed", { error: String(e.payload.error), restarting: e.payload.restart || replace });
      if (replace) replaceConsumer(1000);
    });
    c.on(c.events.GROUP_JOIN, () => {
      if (!health.running) o.log("info", "windows consumer joined the group");
      on({ kind: "joined" });
    });
    return c;
  };
  let consumer = newConsumer();

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const last = batch.messages.at(-1);
    if (last === undefined) return;
    // 1. Decode the batch (window-batch.ts): ticks are skipped, invalid windows counted and skipped.
    const decoded = decodeBatch(batch.messages);
    o.counters.windowsRead += decoded.read;
    o.counters.windowsInvalid += decoded.invalid.length;
    for (const { offset, error } of decoded.invalid) {
      o.log("error", "not a valid window; skipped", { topic: batch.topic, partition: batch.partition, offset, error });
    }
    // 2. Store the windows and their deliveries (window-store.ts); a batch given up is read again.
    if (!(await storeBatch(o, payload, decoded.windows))) return;
    // 3. The deliveries are in Postgres: only now may the offset move past these windows.
    await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: nextOffset(last.offset) }]);
    payload.resolveOffset(last.offset);
    await payload.heartbeat();
  }

  const run = async (c: Consumer) => {
    await c.connect();
    await c.subscribe({ topic: o.topic, fromBeginning: true });
    await c.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 4, eachBatch });
    on({ kind: "started" });
  };
  let replacing: NodeJS.Timeout | undefined;
  function replaceConsumer(inMs: number): void {
    replacing = setTimeout(() => {
      replacing = undefined;
      if (stopping) return;
      const old = consumer;
      consumer = newConsumer();
      void old
        .disconnect()
        .catch(() => undefined)
        .then(() => (stopping ? undefined : run(consumer)))
        .catch((error: unknown) => {
          o.log("error", "could not start a new windows consumer; trying again", { error: String(error) });
          replaceConsumer(Math.min(30_000, inMs * 2));
        });
    }, inMs);
  }

  await run(consumer);
  return {
    problem: () => (health.running ? undefined : health.problem),
    async stop() {
      stopping = true;
      if (replacing !== undefined) clearTimeout(replacing);
      on({ kind: "stopped" });
      await consumer.disconnect();
    },
  };
}
