import type { Kafka, Message, Producer } from "kafkajs";
import {
  OUTBOX_CHANNEL,
  lastSentOffset,
  markOutboxSent,
  outboxStreamId,
  pendingOutbox,
  type Database,
  type OutboxEntry,
  type OutboxReceipt,
} from "@runhooks/db";
import { HEADER_KIND, HEADER_OUTBOX_ID, HEADER_OUTBOX_STREAM, HEADER_RULE_VERSION } from "./headers.js";
import { acquireRelayLock, type LockConnection } from "./lock-connection.js";
import { scanPublishedOutbox } from "./tail-scan.js";

/** The relay's transactional ids: this, then the outbox's stream id (a prefixed ACL covers them). */
export const RELAY_TRANSACTIONAL_ID_PREFIX = "runhooks-outbox-relay-";

export interface RelayLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/**
 * Where a test may stop the relay dead (e.g. SIGKILL itself) to prove recovery: before a batch is sent,
 * after it is sent but before its transaction commits, after it is committed but before it is marked.
 */
export type RelayFaultPoint = "before_publish" | "before_commit" | "after_publish";

export interface OutboxRelayOptions {
  readonly db: Database;
  /** For the relay's own connection, which holds its advisory lock and LISTENs. */
  readonly databaseUrl: string;
  readonly kafka: Kafka;
  /** The rules topic (`<prefix>.rules`). */
  readonly topic: string;
  readonly log: RelayLog;
  /** Entries per produce request. Default 100. */
  readonly batchSize?: number;
  /** The slow poll behind LISTEN/NOTIFY. Default 5 s. */
  readonly pollIntervalMs?: number;
  /** Pause after a failure before trying again. Default 2 s. */
  readonly retryDelayMs?: number;
  readonly faults?: (point: RelayFaultPoint, batch: readonly OutboxEntry[]) => void | Promise<void>;
  /** Overrides the advisory lock key (tests that run several relays on one database). */
  readonly lockKey?: number;
  /** Told how many entries each batch published, and of each failed round (the API's metrics). */
  readonly onPublished?: (entries: number) => void;
  readonly onFailure?: () => void;
}

export interface OutboxRelay {
  /** Resolves once this relay holds the lock and has recovered what a previous one left half done. */
  readonly active: Promise<void>;
  stop(): Promise<void>;
}

/** A batch's transaction takes milliseconds; one left open by a dead relay is aborted after this. */
const TRANSACTION_TIMEOUT_MS = 10_000;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });

function toMessage(entry: OutboxEntry, streamId: string): Message {
  return {
    key: entry.ruleId,
    // A deleted rule is a tombstone: compaction eventually forgets it entirely.
    value: entry.payload === null ? null : JSON.stringify(entry.payload),
    headers: {
      [HEADER_KIND]: "rule",
      [HEADER_OUTBOX_ID]: entry.id.toString(),
      [HEADER_OUTBOX_STREAM]: streamId,
      [HEADER_RULE_VERSION]: String(entry.version),
    },
  };
}

/**
 * Publishes the outbox to the rules topic, in outbox id order, each entry exactly once.
 *
 * - One relay at a time: a session advisory lock on a dedicated connection; others block on it. Kafka
 *   enforces it too: the relay's transactional producer fences any earlier relay's.
 * - Each batch is one transaction of one produce request (acks=all, one request in flight), so it
 *   lands whole, in order, at consecutive offsets, and is visible to read_committed consumers only once
 *   committed. Only then is it marked sent, with each version's append time as its `effective_from`;
 *   the next batch is published only after that.
 * - So after a crash, whatever was committed but not marked lies after the highest offset marked
 *   (a batch left uncommitted is aborted when the next relay registers). Before publishing anything, a
 *   relay reads the topic from there to its end and marks every entry it finds (its header names its
 *   outbox id and this database's stream id). It never publishes an entry that is already there.
 */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const abort = new AbortController();
  const batchSize = options.batchSize ?? 100;
  const pollIntervalMs = options.pollIntervalMs ?? 5000;
  const retryDelayMs = options.retryDelayMs ?? 2000;
  const { db, log, topic } = options;
  let markActive: () => void = () => undefined;
  const active = new Promise<void>((resolve) => (markActive = resolve));

  async function recover(streamId: string): Promise<number> {
    const from = await lastSentOffset(db);
    const receipts = await scanPublishedOutbox({
      kafka: options.kafka,
      topic,
      streamId,
      fromOffset: from === null ? null : from + 1n,
    });
    const marked = await markOutboxSent(db, receipts);
    if (marked > 0) log.info({ marked }, "outbox relay: marked entries a previous relay published but did not mark");
    return marked;
  }

  /** One batch, one transaction: it becomes visible (read_committed) whole, or not at all. */
  async function publish(
    producer: Producer,
    batch: readonly OutboxEntry[],
    streamId: string,
  ): Promise<OutboxReceipt[]> {
    const transaction = await producer.transaction();
    let metadata;
    try {
      metadata = await transaction.send({ topic, acks: -1, messages: batch.map((e) => toMessage(e, streamId)) });
      await options.faults?.("before_commit", batch);
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw error;
    }
    const meta = metadata[0];
    if (metadata.length !== 1 || meta?.baseOffset === undefined) {
      throw new Error(`unexpected produce response from the rules topic: ${JSON.stringify(metadata)}`);
    }
    const appendTime = Number(meta.logAppendTime);
    if (!(appendTime > 0)) {
      throw new Error(
        `rules topic ${topic} must have message.timestamp.type=LogAppendTime (the broker returned no append time)`,
      );
    }
    const base = BigInt(meta.baseOffset);
    return batch.map((e, i) => ({ id: e.id, offset: base + BigInt(i), appendTime: new Date(appendTime) }));
  }

  async function runWhileHoldingLock(lock: LockConnection): Promise<void> {
    const streamId = await outboxStreamId(db);
    // One transactional id per outbox: a new relay's producer fences every earlier one, so a relay
    // that lost its lock without knowing it (a pause, a partition) can no longer publish anything.
    const producer = options.kafka.producer({
      transactionalId: `${RELAY_TRANSACTIONAL_ID_PREFIX}${streamId}`,
      // An open transaction holds back every read_committed reader of the rules topic (the evaluator
      // waits to read past a run's time): a relay that dies mid-batch is aborted by the broker soon.
      transactionTimeout: TRANSACTION_TIMEOUT_MS,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    const interrupt = () => lock.interrupt();
    abort.signal.addEventListener("abort", interrupt);
    await producer.connect();
    try {
      // Registering the transactional id fences the previous relay and aborts its open transaction;
      // only after that is the topic's tail final, and read.
      await (await producer.transaction()).abort();
      await recover(streamId);
      markActive();
      while (!abort.signal.aborted) {
        const lost = lock.lost();
        if (lost) throw new Error(`lost the relay lock: ${lost.message}`);
        const batch = await pendingOutbox(db, batchSize);
        if (batch.length === 0) {
          await lock.waitForNotification(pollIntervalMs);
          continue;
        }
        await options.faults?.("before_publish", batch);
        const receipts = await publish(producer, batch, streamId);
        await options.faults?.("after_publish", batch);
        options.onPublished?.(receipts.length);
        await markOutboxSent(db, receipts);
      }
    } finally {
      abort.signal.removeEventListener("abort", interrupt);
      await producer.disconnect().catch(() => undefined);
    }
  }

  const loop = (async () => {
    while (!abort.signal.aborted) {
      let lock: LockConnection | undefined;
      try {
        lock = await acquireRelayLock(options.databaseUrl, db, OUTBOX_CHANNEL, abort.signal, options.lockKey);
        if (abort.signal.aborted) break;
        log.info({ topic }, "outbox relay: holding the relay lock; publishing");
        await runWhileHoldingLock(lock);
      } catch (error) {
        if (abort.signal.aborted) break;
        // A failed publish may have landed anyway: the next round recovers before publishing again.
        options.onFailure?.();
        log.error({ err: error }, "outbox relay failed; retrying");
        await sleep(retryDelayMs, abort.signal);
      } finally {
        await lock?.close();
      }
    }
  })();

  return {
    active,
    async stop() {
      abort.abort();
      await loop;
    },
  };
}
