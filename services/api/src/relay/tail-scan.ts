import { randomUUID } from "node:crypto";
import { groupConsumer } from "@runhooks/kafka";
import type { Kafka } from "kafkajs";
import type { OutboxReceipt } from "@runhooks/db";
import { RunhooksError } from "@runhooks/errors";
import { HEADER_OUTBOX_ID, HEADER_OUTBOX_STREAM, headerString } from "./headers.js";

/** The throw-away consumer groups that read the rules topic's tail (a prefixed ACL covers them). */
export const RELAY_SCAN_GROUP_PREFIX = "runhooks-relay-scan-";

export interface TailScanOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  /** Only messages published from this database's outbox count. */
  readonly streamId: string;
  /** First offset to read; null: from the start of the topic. */
  readonly fromOffset: bigint | null;
  /**
   * The whole scan (offsets, joining a throw-away group, reading to the end) fails after this long
   * (default 30 s) instead of holding the relay forever — e.g. a reader that can never reach the end
   * offset, or a broker that stops answering. The relay retries.
   */
  readonly timeoutMs?: number;
}

export const DEFAULT_TAIL_SCAN_TIMEOUT_MS = 30_000;

/** The scan did not finish in time; retriable (the relay starts over). */
export class TailScanTimeoutError extends RunhooksError {
  readonly code = "tail_scan_timeout";
  readonly retriable = true;
  override readonly name = "TailScanTimeoutError";
}

/**
 * Reads the rules topic from `fromOffset` to its end and returns where each of our outbox entries
 * landed (offset and append time). Everything else there — the evaluator's ticks, another database's
 * messages — is skipped. The topic has one partition.
 */
export async function scanPublishedOutbox(options: TailScanOptions): Promise<OutboxReceipt[]> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TAIL_SCAN_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TailScanTimeoutError(`reading the tail of ${options.topic} took longer than ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await scan(options, <T>(p: Promise<T>) => Promise.race([p, deadline]));
  } finally {
    clearTimeout(timer);
  }
}

async function scan(options: TailScanOptions, bounded: <T>(p: Promise<T>) => Promise<T>): Promise<OutboxReceipt[]> {
  const { kafka, topic, streamId } = options;
  const admin = kafka.admin();
  let low: bigint;
  let high: bigint;
  try {
    await bounded(admin.connect());
    const offsets = await bounded(admin.fetchTopicOffsets(topic));
    const p0 = offsets.find((o) => o.partition === 0);
    if (!p0 || offsets.length !== 1) throw new Error(`rules topic ${topic} must have exactly one partition`);
    low = BigInt(p0.low);
    high = BigInt(p0.high);
  } finally {
    // Bounded too: a broker that stopped answering holds a disconnect until kafkajs' request timeout.
    await bounded(admin.disconnect());
  }
  const start = options.fromOffset === null || options.fromOffset < low ? low : options.fromOffset;
  if (start >= high) return [];

  // A throw-away group that commits nothing: kafkajs reads only through consumer groups.
  const consumer = groupConsumer(kafka, {
    groupId: `${RELAY_SCAN_GROUP_PREFIX}${randomUUID()}`,
    allowAutoTopicCreation: false,
  });
  const found: OutboxReceipt[] = [];
  try {
    await bounded(consumer.connect());
    await bounded(consumer.subscribe({ topic, fromBeginning: true }));
    await bounded(
      new Promise<void>((resolve, reject) => {
        let finished = false;
        const finish = () => {
          if (!finished) {
            finished = true;
            resolve();
          }
        };
        consumer
          .run({
            autoCommit: false,
            eachMessage: ({ message }) => {
              const offset = BigInt(message.offset);
              if (finished || offset < start) return Promise.resolve();
              const id = headerString(message.headers, HEADER_OUTBOX_ID);
              if (id !== undefined && headerString(message.headers, HEADER_OUTBOX_STREAM) === streamId) {
                found.push({ id: BigInt(id), offset, appendTime: new Date(Number(message.timestamp)) });
              }
              if (offset >= high - 1n) finish();
              return Promise.resolve();
            },
          })
          .then(() => consumer.seek({ topic, partition: 0, offset: start.toString() }))
          .catch(reject);
        consumer.on(consumer.events.CRASH, (event) => reject(event.payload.error));
        // Also fires for batches of records that eachMessage never sees (control records, compacted gaps).
        consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
          if (BigInt(event.payload.lastOffset) >= high - 1n) finish();
        });
      }),
    );
  } finally {
    await bounded(consumer.disconnect());
  }
  return found;
}
