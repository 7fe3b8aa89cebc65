import type { ClaimedDelivery, Database, NewDelivery, NewWindow } from "@runhooks/db";
import { storeWindows } from "@runhooks/db";
import type { Consumer, EachBatchPayload, IHeaders, Kafka } from "kafkajs";
import type { AttemptObserver } from "./attempt-observer.js";
import type { Counters } from "./counters.js";
import { deliveryId } from "./delivery-id.js";
import type { Logger } from "@runhooks/telemetry";
import type { PayloadCache } from "./payload-cache.js";
import { newTraceId, traceIdOf } from "./traceparent.js";
import type { WebhookCache } from "./webhook-cache.js";
import type { Workers } from "./workers.js";
import { decodeWindow } from "./window-message.js";

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
  readonly workers: Pick<Workers, "reserve" | "release" | "adopt">;
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
  running(): boolean;
  stop(): Promise<void>;
}

type DecodedBatchWindow = Extract<ReturnType<typeof decodeWindow>, { ok: true }> & { readonly traceparent: string | undefined };

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reads `runhooks.windows` and turns each window into one stored delivery per webhook of its rule
 * version. A batch's offsets are committed only once its deliveries are stored; while Postgres is
 * unreachable the batch is retried (heartbeating), so nothing is skipped.
 */
export async function startWindowsConsumer(o: WindowsConsumerOptions): Promise<WindowsConsumer> {
  let isRunning = false;
  const consumer: Consumer = o.kafka.consumer({
    groupId: o.groupId,
    sessionTimeout: o.sessionTimeoutMs,
    heartbeatInterval: Math.min(1000, Math.floor(o.sessionTimeoutMs / 3)),
    maxWaitTimeInMs: 100,
  });
  o.observeConsumer?.(consumer);
  consumer.on(consumer.events.CRASH, (e) => {
    isRunning = false;
    o.log("error", "windows consumer crashed", { error: String(e.payload.error) });
  });

  /** Decodes a batch: pure, done once per batch. */
  function decode(payload: EachBatchPayload): DecodedBatchWindow[] {
    const out: DecodedBatchWindow[] = [];
    for (const message of payload.batch.messages) {
      if (header(message.headers, "runhooks-kind") === "tick") continue;
      o.counters.windowsRead++;
      const decoded = decodeWindow(message.value);
      if (!decoded.ok) {
        o.counters.windowsInvalid++;
        o.log("error", "not a valid window; skipped", {
          topic: payload.batch.topic,
          partition: payload.batch.partition,
          offset: message.offset,
          error: decoded.error,
        });
        continue;
      }
      out.push({ ...decoded, traceparent: header(message.headers, "traceparent") });
    }
    return out;
  }

  /** Rows to store: the windows, and one delivery per webhook of each window's rule version. */
  async function rows(decoded: readonly DecodedBatchWindow[]) {
    const windows: NewWindow[] = [];
    const deliveries: NewDelivery[] = [];
    const bodies: [string, Buffer][] = [];
    const without: { windowId: string; ruleId: string; ruleVersion: number; reason: string }[] = [];
    // A window re-emitted after an evaluator crash can sit twice in one batch (same key, same
    // partition); its deliveries must be reserved, and so sent, once.
    const seen = new Set<string>();
    try {
      for (const d of decoded) {
        if (seen.has(d.window.window_id)) continue;
        seen.add(d.window.window_id);
        await addRows(d);
      }
    } catch (error) {
      // Give back the lane room reserved so far, or a database outage would leak it for good.
      for (const delivery of deliveries) if (delivery.claimed) o.workers.release(delivery.origin, 1);
      throw error;
    }
    return { windows, deliveries, bodies, without };

    async function addRows(d: DecodedBatchWindow): Promise<void> {
      const w = d.window;
      const targets = await o.webhooks.get(w.rule_id, w.rule_version);
      const count = targets?.size ?? 0;
      windows.push({
        windowId: w.window_id,
        tenantId: w.tenant_id,
        ruleId: w.rule_id,
        ruleVersion: w.rule_version,
        startTime: w.start_time,
        endTime: w.end_time,
        runCount: d.runCount,
        webhookCount: count,
        payload: count === 0 ? null : d.payload,
      });
      if (targets === undefined || count === 0) {
        without.push({
          windowId: w.window_id,
          ruleId: w.rule_id,
          ruleVersion: w.rule_version,
          reason: targets === undefined ? "unknown_rule_version" : "no_webhooks",
        });
        return;
      }
      bodies.push([w.window_id, Buffer.from(d.payload)]);
      const traceId = traceIdOf(d.traceparent) ?? newTraceId();
      o.observer.windowRead(w.window_id, d.traceparent);
      for (const target of targets.values()) {
        deliveries.push({
          id: deliveryId(w.window_id, target.webhookId),
          windowId: w.window_id,
          webhookId: target.webhookId,
          tenantId: w.tenant_id,
          ruleId: w.rule_id,
          ruleVersion: w.rule_version,
          url: target.redactedUrl,
          origin: target.origin,
          traceId,
          claimed: o.workers.reserve(target.origin),
        });
      }
    }
  }

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const heartbeat = () => payload.heartbeat();
    const last = batch.messages.at(-1);
    if (last === undefined) return;
    const decoded = decode(payload);
    for (let attempt = 1; decoded.length > 0; attempt++) {
      if (!payload.isRunning() || payload.isStale()) return;
      let reserved: NewDelivery[] = [];
      try {
        const { windows, deliveries, bodies, without } = await rows(decoded);
        reserved = deliveries.filter((d) => d.claimed);
        const stored = await storeWindows(o.db, windows, deliveries, { leaseMs: o.leaseMs, claimedBy: o.instanceId });
        o.onDatabase(true);
        o.counters.windowsStored += stored.windowsStored;
        o.counters.windowsDuplicate += windows.length - stored.windowsStored;
        o.counters.deliveriesCreated += stored.deliveriesCreated;
        for (const w of without) {
          o.counters.windowsWithoutWebhooks[w.reason] = (o.counters.windowsWithoutWebhooks[w.reason] ?? 0) + 1;
          o.log(w.reason === "unknown_rule_version" ? "warn" : "debug", "window has nothing to deliver to", w);
        }
        for (const [windowId, body] of bodies) o.payloads.set(windowId, body);
        // Ours to send: created claimed. The room of those that existed already goes back.
        const created = new Set(stored.created);
        const adopted: ClaimedDelivery[] = [];
        for (const d of reserved) {
          if (created.has(d.id)) adopted.push({ ...d, attempt: 1, roundAttempt: 1, trigger: "scheduled" });
          else o.workers.release(d.origin, 1);
        }
        reserved = [];
        if (adopted.length > 0) await o.workers.adopt(adopted);
        if (stored.deliveriesCreated > adopted.length) o.onStored();
        break;
      } catch (error) {
        for (const d of reserved) o.workers.release(d.origin, 1);
        o.counters.databaseErrors++;
        o.onDatabase(false);
        o.log(attempt === 1 ? "warn" : "debug", "could not store windows; retrying", {
          partition: batch.partition,
          attempt,
          error: String(error),
        });
        await sleep(Math.min(2000, 100 * attempt));
        await heartbeat().catch(() => undefined);
      }
    }
    // The deliveries are in Postgres: only now may the offset move past these windows.
    await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(Number(last.offset) + 1) }]);
    payload.resolveOffset(last.offset);
    await heartbeat();
  }

  await consumer.connect();
  await consumer.subscribe({ topic: o.topic, fromBeginning: true });
  await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 4, eachBatch });
  isRunning = true;
  return {
    running: () => isRunning,
    async stop() {
      isRunning = false;
      await consumer.disconnect();
    },
  };
}
