import { CONSUMER_NOT_STARTED, nextConsumerHealth, type ConsumerEvent } from "./consumer-health.js";
import type { Database } from "@runhooks/db";
import { groupConsumer, refuseForeignBatch, watchUnsubscribedTopics } from "@runhooks/kafka";
import type { Admin, Consumer, EachBatchPayload, Kafka } from "kafkajs";
import type { AttemptObserver } from "./attempt-observer.js";
import type { Counters } from "./counters.js";
import type { Logger } from "@runhooks/telemetry";
import type { PayloadCache } from "./payload-cache.js";
import type { WebhookCache } from "./webhook-cache.js";
import type { Workers } from "./workers.js";
import {
  commitPoint,
  foldBatch,
  needsPartitionCount,
  type FoldedBatch,
  type PartitionAssembly,
} from "./window-assembly.js";
import { decodeBatch, type DecodedBatch } from "./window-batch.js";
import { loadAssembly, runsPartitionCount } from "./window-partition.js";
import { screenBatch, type WindowScreenOptions } from "./window-screen.js";
import { storeBatch } from "./window-store.js";
import { DELIVERY_GROUP_VARIABLE } from "./group.js";

export interface WindowsConsumerOptions extends Pick<WindowScreenOptions, "owners" | "producer" | "deadLetterTopic"> {
  readonly kafka: Kafka;
  /** Connected; the caller's to disconnect once the consumer stopped. */
  readonly admin: Admin;
  readonly topic: string;
  /** The runs topic: a window is complete once every one of its partitions' watermarks passed its end. */
  readonly runsTopic: string;
  /** The group to join, as resolveDeliveryGroup chose it. */
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
  /** The group it joined. */
  readonly groupId: string;
  /** Undefined while it runs; otherwise why not (/healthz). */
  problem(): string | undefined;
  stop(): Promise<void>;
}

/**
 * Reads `runhooks.windows` (DESIGN.md §5): folds each assigned partition's parts and watermarks into
 * windows merged over every runs partition, and turns each completed window into one stored delivery
 * per webhook of its rule version. A batch's offset is committed, with the assembly's checkpoint, only
 * once the windows it completed are stored, and never past a part of a window still open; while
 * Postgres is unreachable the batch is retried (heartbeating), so nothing is skipped.
 */
export async function startWindowsConsumer(o: WindowsConsumerOptions): Promise<WindowsConsumer> {
  let health = CONSUMER_NOT_STARTED;
  let stopping = false;
  const on = (event: ConsumerEvent) => (health = nextConsumerHealth(health, event));
  const { admin, groupId } = o;
  const sources = { admin, groupId, topic: o.topic, runsTopic: o.runsTopic, log: o.log };
  /** Each assigned partition's assembly; every (re)assignment starts over from the committed checkpoints. */
  const assemblies = new Map<number, PartitionAssembly>();
  const newConsumer = (): Consumer => {
    const c = groupConsumer(o.kafka, {
      groupId,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: Math.min(1000, Math.floor(o.sessionTimeoutMs / 3)),
      maxWaitTimeInMs: 100,
    });
    watchUnsubscribedTopics(c, DELIVERY_GROUP_VARIABLE, o.log);
    o.observeConsumer?.(c);
    c.on(c.events.CRASH, (e) => {
      // kafkajs restarts a consumer after a retriable error; one it gives up on (e.g. "the coordinator
      // is not aware of this member" after the process was stopped longer than the session) is
      // replaced here by a new one that joins the group afresh.
      const replace = !e.payload.restart && !stopping && c === consumer;
      on({ kind: "crashed", restart: e.payload.restart || replace, error: String(e.payload.error) });
      o.log("error", "windows consumer crashed", {
        error: String(e.payload.error),
        restarting: e.payload.restart || replace,
      });
      if (replace) replaceConsumer(1000);
    });
    c.on(c.events.GROUP_JOIN, () => {
      // kafkajs resumes every assigned partition from its committed offset: so does its assembly.
      assemblies.clear();
      refusals.clear();
      if (!health.running) o.log("info", "windows consumer joined the group");
      on({ kind: "joined" });
    });
    return c;
  };
  let consumer = newConsumer();

  /** Per windows partition, how many stores in a row the database refused (its wait grows with them). */
  const refusals = new Map<number, number>();
  const setAsideTimers = new Set<NodeJS.Timeout>();
  /**
   * Pauses a partition whose windows the database refused, and resumes it after a wait that doubles
   * with each refusal in a row (1 s up to 30 s): nothing is skipped, and no other partition waits.
   */
  function setAside(partition: number): void {
    if (stopping) return;
    const n = (refusals.get(partition) ?? 0) + 1;
    refusals.set(partition, n);
    const ms = Math.min(30_000, 1000 * 2 ** (n - 1));
    const c = consumer;
    c.pause([{ topic: o.topic, partitions: [partition] }]);
    o.log("warn", "windows partition set aside after a refused store", { partition, refusals: n, retryInMs: ms });
    const timer = setTimeout(() => {
      setAsideTimers.delete(timer);
      if (stopping || c !== consumer) return;
      try {
        c.resume([{ topic: o.topic, partitions: [partition] }]);
      } catch (error) {
        // kafkajs refuses while it restarts the consumer after a crash; the restarted one starts with
        // nothing paused, so the partition is read again all the same.
        o.log("debug", "windows partition not resumed: the consumer is restarting", {
          partition,
          error: String(error),
        });
      }
    }, ms);
    timer.unref();
    setAsideTimers.add(timer);
  }

  /** The partition's assembly, loaded on its first batch; undefined while batches fetched before its seek arrive. */
  async function assemblyOf(payload: EachBatchPayload, firstOffset: number): Promise<PartitionAssembly | undefined> {
    const { partition } = payload.batch;
    let a = assemblies.get(partition);
    if (a === undefined) {
      a = await loadAssembly(sources, partition, firstOffset);
      assemblies.set(partition, a);
      if (a.phase === "seeking") consumer.seek({ topic: o.topic, partition, offset: String(a.from) });
      return a.phase === "active" ? a : undefined;
    }
    if (a.phase === "seeking") {
      // kafkajs applies a seek before the partition's next fetch: the batch after the one that
      // sought was fetched from the seek's offset.
      if (payload.isStale()) return undefined;
      a.phase = "active";
    }
    return a;
  }

  /** Counts and logs what a batch held and what folding it came to. */
  function record(partition: number, decoded: DecodedBatch, folded: FoldedBatch): void {
    o.counters.partsRead += decoded.parts;
    o.counters.watermarksRead += decoded.watermarks;
    o.counters.windowsInvalid += decoded.invalid.length;
    o.counters.windowsCompleted += folded.windows.length;
    for (const d of folded.duplicates) {
      o.counters.partsDuplicate[d.reason] = (o.counters.partsDuplicate[d.reason] ?? 0) + 1;
      o.log("debug", "part adds nothing; dropped", { partition, offset: d.offset, partId: d.partId, reason: d.reason });
    }
  }

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    // 0. A backstop (batch-topic.ts): kafkajs drops another topic's partitions before fetching them
    // (watchUnsubscribedTopics logs it); were a batch of one handed over, it is thrown before its
    // partition's assembly is touched, and never committed.
    refuseForeignBatch({ batchTopic: batch.topic, topic: o.topic, groupId, variable: DELIVERY_GROUP_VARIABLE }, o.log);
    const first = batch.messages[0];
    const last = batch.messages.at(-1);
    if (first === undefined || last === undefined) return;
    // 1. The partition's assembly, from its checkpoint on the first batch after an assignment.
    const a = await assemblyOf(payload, Number(first.offset));
    if (a === undefined) return;
    const current = () => assemblies.get(batch.partition) === a;
    try {
      // 2. Decode the batch (window-batch.ts): parts and watermarks; ticks skipped, invalid messages counted.
      const decoded = decodeBatch(batch.messages, a.from);
      // 2b. Only parts that check out against the rule store go on (window-screen.ts): the rest, and
      // invalid messages, are dead-lettered with their reason before the offset can move past them.
      const inputs = await screenBatch(o, payload, decoded);
      if (inputs === undefined) {
        if (current()) assemblies.delete(batch.partition);
        return;
      }
      // 3. A watermark that may complete a window waits for the runs topic's partition count (it only grows).
      const partitions = needsPartitionCount(a.state, inputs) ? await runsPartitionCount(sources) : undefined;
      // 4. Fold it into the assembly (window-assembly.ts): the windows it completes, the parts it drops.
      const folded = foldBatch(a, inputs, decoded.traceparents, partitions);
      record(batch.partition, decoded, folded);
      // 5. Store the completed windows and their deliveries (window-store.ts). A batch given up leaves
      // the assembly behind it: the next batch starts over from the checkpoint. One the database
      // refused sets the partition aside for a while (the others go on), then starts it over the same way.
      const stored = await storeBatch(o, payload, folded.windows);
      if (stored.kind !== "stored") {
        if (current()) assemblies.delete(batch.partition);
        if (stored.kind === "refused") setAside(batch.partition);
        return;
      }
      refusals.delete(batch.partition);
      // 6. The windows are in Postgres: only now may the offset move, and never past an open window's part.
      if (!current()) return;
      const commit = commitPoint(a.state, Number(last.offset) + 1);
      await consumer.commitOffsets([
        { topic: batch.topic, partition: batch.partition, offset: String(commit.offset), metadata: commit.metadata },
      ]);
      payload.resolveOffset(last.offset);
      await payload.heartbeat();
    } catch (error) {
      // What was folded may be lost with the batch: the partition starts over from its checkpoint.
      if (current()) assemblies.delete(batch.partition);
      throw error;
    }
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
    groupId,
    problem: () => (health.running ? undefined : health.problem),
    async stop() {
      stopping = true;
      if (replacing !== undefined) clearTimeout(replacing);
      for (const t of setAsideTimers) clearTimeout(t);
      on({ kind: "stopped" });
      await consumer.disconnect();
    },
  };
}
