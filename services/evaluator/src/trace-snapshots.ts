import type { BytesCodec, SnapshotRef } from "@runhooks/rules";
import type { Logger } from "@runhooks/telemetry";
import { groupConsumer } from "@runhooks/kafka";
import kafkajs, { type Consumer, type Kafka, type KafkaMessage, type Producer } from "kafkajs";
import { RULES_GROUP_PREFIX } from "./rules-log.js";

/**
 * The traces topic (DESIGN.md §4, restart): each runs partition's trace snapshots, written before the
 * commit that names them, and read back by offset when a partition restarts. One partition, compacted;
 * a chunk's key is `<runs partition>/<chunk>` and its header names the runs partition, the snapshot's
 * cut and its place, so a restart takes only the chunks of the snapshot its checkpoint names.
 */

export const SNAPSHOT_HEADER = "runhooks-trace-snapshot";

/** The runs a snapshot holds (those read before every open plain window), as base64 of their bytes. */
export const SNAPSHOT_BYTES: BytesCodec = {
  encode: (json) => Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString("base64"),
  decode: (text) => Buffer.from(text, "base64"),
};
const { CompressionTypes } = kafkajs;
const TRACES_PARTITION = 0;
/** A chunk is one Kafka message: well under the broker's default 1 MiB `message.max.bytes`. */
export const SNAPSHOT_CHUNK_BYTES = 768 * 1024;
/** How long a restart waits for a snapshot's chunks before it refolds the horizon instead. */
const READ_TIMEOUT_MS = 15_000;

const headerOf = (partition: number, upTo: number, chunk: number, chunks: number) =>
  `${partition}/${upTo}/${chunk}/${chunks}`;

/** Writes a snapshot's chunks, in order; its reference names their offsets (none for an empty one). */
export async function writeSnapshot(
  producer: Producer,
  topic: string,
  partition: number,
  upTo: number,
  chunks: readonly string[],
): Promise<SnapshotRef> {
  const offsets: number[] = [];
  for (let i = 0; i < chunks.length; i++) {
    const [meta] = await producer.send({
      topic,
      acks: -1,
      // Snappy (registered by createKafka): repeated ids and numbers shrink several times, cheaply.
      compression: CompressionTypes.Snappy,
      messages: [
        {
          partition: TRACES_PARTITION,
          key: `${partition}/${i}`,
          value: chunks[i]!,
          headers: { [SNAPSHOT_HEADER]: headerOf(partition, upTo, i, chunks.length) },
        },
      ],
    });
    if (meta?.baseOffset === undefined) throw new Error(`no offset for a chunk of a trace snapshot on ${topic}`);
    offsets.push(Number(meta.baseOffset));
  }
  return { upTo, offsets };
}

export interface SnapshotReader {
  /** The chunks of the snapshot `ref` names, in order; undefined when the topic no longer holds them all. */
  read(partition: number, ref: SnapshotRef): Promise<string[] | undefined>;
  stop(): Promise<void>;
}

/**
 * A private consumer of the traces topic (a prefixed group the rules log's ACL covers), paused but
 * while a restart reads: it joins its group once, when the evaluator starts, not on each restart.
 * Reads run one at a time.
 */
export async function startSnapshotReader(
  kafka: Kafka,
  topic: string,
  instanceId: string,
  log: Logger,
): Promise<SnapshotReader> {
  const consumer: Consumer = groupConsumer(kafka, {
    groupId: `${RULES_GROUP_PREFIX}${instanceId}-traces-${Date.now()}`,
    maxWaitTimeInMs: 50,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
  });
  let wanted:
    | {
        readonly offsets: Set<number>;
        readonly got: Map<number, KafkaMessage>;
        done: () => void;
      }
    | undefined;
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  await consumer.run({
    autoCommit: false,
    eachMessage: ({ message }) => {
      const w = wanted;
      if (w === undefined) return Promise.resolve();
      // Done once every chunk came. A fetch from before the seek may still deliver other offsets, so
      // none of them says a chunk is missing: one compacted away is found missing at the timeout.
      const offset = Number(message.offset);
      if (w.offsets.has(offset)) w.got.set(offset, message);
      if (w.got.size === w.offsets.size) w.done();
      return Promise.resolve();
    },
  });
  consumer.pause([{ topic }]);
  let queue: Promise<unknown> = Promise.resolve();

  async function readOnce(partition: number, ref: SnapshotRef): Promise<string[] | undefined> {
    if (ref.offsets.length === 0) return [];
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const got = new Map<number, KafkaMessage>();
    wanted = { offsets: new Set(ref.offsets), got, done };
    const timer = setTimeout(done, READ_TIMEOUT_MS);
    try {
      consumer.seek({ topic, partition: TRACES_PARTITION, offset: String(Math.min(...ref.offsets)) });
      consumer.resume([{ topic }]);
      await finished;
    } finally {
      clearTimeout(timer);
      consumer.pause([{ topic }]);
      wanted = undefined;
    }
    const chunks: string[] = [];
    for (let i = 0; i < ref.offsets.length; i++) {
      const m = got.get(ref.offsets[i]!);
      const header = m?.headers?.[SNAPSHOT_HEADER]?.toString();
      if (m?.value == null || header !== headerOf(partition, ref.upTo, i, ref.offsets.length)) {
        log("warn", "trace snapshot not found on the traces topic", { partition, upTo: ref.upTo, chunk: i });
        return undefined;
      }
      chunks.push(m.value.toString("utf8"));
    }
    return chunks;
  }

  return {
    read(partition, ref) {
      const next = queue.then(() => readOnce(partition, ref));
      queue = next.catch(() => undefined);
      return next;
    },
    async stop() {
      await consumer.disconnect();
    },
  };
}
