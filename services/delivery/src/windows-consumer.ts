import { CONSUMER_NOT_STARTED, nextConsumerHealth, type ConsumerEvent } from "./consumer-health.js";
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

type DecodedBatchWindow = Extract<ReturnType<typeof decodeWindow>, { ok: true }> & { readonly traceparent: string | undefined };

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How long a batch's windows may wait for room in the workers' lanes before the rest is stored pending.
 * They wait only for room that comes back fast (`worthWaiting`): a full lane of a slow endpoint sends
 * its deliveries pending at once, so it does not hold up the batch's other windows.
 */
const LINGER_MS = 2000;

/**
 * Once room opens, how long to let more of it open before storing the next chunk: room comes back one
 * attempt at a time, and a chunk per attempt would make every statement tiny (Postgres then spends
 * more on statements than on rows).
 */
const GATHER_MS = 25;

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

  /**
   * The rows of one chunk of a batch, from window `from` on: the windows, and one delivery per webhook
   * of each window's rule version, each reserved in the workers' lanes when they have room (stored
   * claimed, sent without a claim). Until `lingerUntil`, the chunk ends before the first window one of
   * whose deliveries finds no room (`next` is that window): the caller stores the chunk, waits for room
   * and goes on. Past it, deliveries without room are stored pending for a claim.
   */
  async function rows(decoded: readonly DecodedBatchWindow[], from: number, seen: Set<string>, lingerUntil: number) {
    const windows: NewWindow[] = [];
    const deliveries: NewDelivery[] = [];
    const bodies: [string, Buffer][] = [];
    const without: { windowId: string; ruleId: string; ruleVersion: number; reason: string }[] = [];
    const chunkSeen: string[] = [];
    let next = from;
    try {
      for (; next < decoded.length; next++) {
        const d = decoded[next]!;
        // A window re-emitted after an evaluator crash can sit twice in one batch (same key, same
        // partition); its deliveries must be reserved, and so sent, once.
        if (seen.has(d.window.window_id) || chunkSeen.includes(d.window.window_id)) continue;
        if (!(await addRows(d))) break;
        chunkSeen.push(d.window.window_id);
      }
    } catch (error) {
      // Give back the lane room reserved so far, or a database outage would leak it for good.
      for (const delivery of deliveries) if (delivery.claimed) o.workers.release(delivery, 1);
      throw error;
    }
    return { windows, deliveries, bodies, without, next, chunkSeen };

    /** False when the window waits for the next chunk (no room yet, lingering). */
    async function addRows(d: DecodedBatchWindow): Promise<boolean> {
      const w = d.window;
      const targets = await o.webhooks.get(w.rule_id, w.rule_version);
      const count = targets?.size ?? 0;
      const mine: NewDelivery[] = [];
      if (targets !== undefined && count > 0) {
        const traceId = traceIdOf(d.traceparent) ?? newTraceId();
        o.observer.windowRead(w.window_id, d.traceparent);
        for (const target of targets.values()) {
          const claimed = o.workers.reserve(target.origin, w.tenant_id);
          if (!claimed && Date.now() < lingerUntil && o.workers.worthWaiting(target.origin, w.tenant_id)) {
            for (const m of mine) if (m.claimed) o.workers.release(m, 1);
            return false;
          }
          mine.push({
            id: deliveryId(w.window_id, target.webhookId),
            windowId: w.window_id,
            webhookId: target.webhookId,
            tenantId: w.tenant_id,
            ruleId: w.rule_id,
            ruleVersion: w.rule_version,
            url: target.redactedUrl,
            origin: target.origin,
            traceId,
            claimed,
          });
        }
      }
      deliveries.push(...mine);
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
        return true;
      }
      bodies.push([w.window_id, d.payload]);
      return true;
    }
  }

  /** Stores one chunk (retrying while Postgres is unreachable); the index of the next window, or undefined to stop. */
  async function storeChunk(
    payload: EachBatchPayload,
    decoded: readonly DecodedBatchWindow[],
    from: number,
    seen: Set<string>,
    lingerUntil: number,
  ): Promise<number | undefined> {
    for (let attempt = 1; ; attempt++) {
      if (!payload.isRunning() || payload.isStale()) return undefined;
      let reserved: NewDelivery[] = [];
      try {
        const { windows, deliveries, bodies, without, next, chunkSeen } = await rows(decoded, from, seen, attempt === 1 ? lingerUntil : 0);
        reserved = deliveries.filter((d) => d.claimed);
        if (windows.length === 0) return next;
        const stored = await storeWindows(o.db, windows, deliveries, { leaseMs: o.leaseMs, claimedBy: o.instanceId });
        o.onDatabase(true);
        for (const id of chunkSeen) seen.add(id);
        o.counters.windowsStored += stored.windowsStored;
        o.counters.windowsDuplicate += windows.length - stored.windowsStored;
        o.counters.deliveriesCreated += stored.deliveriesCreated;
        for (const w of without) {
          o.counters.windowsWithoutWebhooks[w.reason] = (o.counters.windowsWithoutWebhooks[w.reason] ?? 0) + 1;
          o.log(w.reason === "unknown_rule_version" ? "warn" : "debug", "window has nothing to deliver to", w);
        }
        for (const [windowId, body] of bodies) o.payloads.set(windowId, body);
        // Ours to send: created claimed. The room of those that existed already goes back.
        const existing = new Set(stored.existing);
        const adopted: ClaimedDelivery[] = [];
        for (const d of reserved) {
          if (!existing.has(d.id)) adopted.push({ ...d, attempt: 1, roundAttempt: 1, trigger: "scheduled" });
          else o.workers.release(d, 1);
        }
        reserved = [];
        if (adopted.length > 0) await o.workers.adopt(adopted);
        if (stored.deliveriesCreated > adopted.length) o.onStored();
        return next;
      } catch (error) {
        for (const d of reserved) o.workers.release(d, 1);
        o.counters.databaseErrors++;
        o.onDatabase(false);
        o.log(attempt === 1 ? "warn" : "debug", "could not store windows; retrying", {
          partition: payload.batch.partition,
          attempt,
          error: String(error),
        });
        await sleep(Math.min(2000, 100 * attempt));
        await payload.heartbeat().catch(() => undefined);
      }
    }
  }

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const last = batch.messages.at(-1);
    if (last === undefined) return;
    const decoded = decode(payload);
    const seen = new Set<string>();
    // Windows wait a little for room in the lanes rather than go through the pending queue: a first
    // attempt sent from a claim costs a claim statement and one more row version of the delivery.
    const lingerUntil = Date.now() + LINGER_MS;
    for (let from = 0; from < decoded.length; ) {
      const next = await storeChunk(payload, decoded, from, seen, lingerUntil);
      if (next === undefined) return;
      if (next < decoded.length) {
        await o.workers.roomOpened(Math.max(0, lingerUntil - Date.now()));
        await sleep(GATHER_MS);
        await payload.heartbeat();
      }
      from = next;
    }
    // The deliveries are in Postgres: only now may the offset move past these windows.
    await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(Number(last.offset) + 1) }]);
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
