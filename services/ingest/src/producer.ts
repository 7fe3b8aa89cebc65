import { RunhooksError } from "@runhooks/errors";
import { acknowledgedWithin } from "@runhooks/kafka";
import type { Producer } from "kafkajs";

/** One message as produced to the runs topic (kafkajs writes a string as its UTF-8 bytes). */
export interface ProduceMessage {
  readonly key: string | Buffer;
  readonly value: string | Buffer;
  /** The trace context of its PRODUCER span (`traceparent`…), when tracing is on (traced-sink.ts). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A run as ingest hands it to the producer: its JSON text, measured once. */
export interface RunMessage extends ProduceMessage {
  readonly key: string;
  readonly value: string;
  /** The value's length in UTF-8 bytes. */
  readonly bytes: number;
  /** The run's id: an attribute of its producer span (ids only, never content). */
  readonly runId: string;
}

/** Bytes of a message's key and value, as produced. */
function sizeOf(m: ProduceMessage): number {
  return (
    (typeof m.key === "string" ? Buffer.byteLength(m.key) : m.key.length) +
    (typeof m.value === "string" ? Buffer.byteLength(m.value) : m.value.length)
  );
}

/** Kafka did not acknowledge in time or refused: the caller answers 503, the client retries. */
export class KafkaUnavailableError extends RunhooksError {
  readonly code = "kafka_unavailable";
  readonly retriable = true;
  override readonly name = "KafkaUnavailableError";
}

export interface RunSink<M extends ProduceMessage = RunMessage> {
  /** Resolves once Kafka (acks: all) has every message. */
  send(messages: readonly M[]): Promise<void>;
}

interface Waiting {
  readonly messages: readonly ProduceMessage[];
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export interface BatchingSinkOptions {
  readonly producer: Producer;
  readonly topic: string;
  /** A produce request carries at most this many bytes of values (under the broker's 1 MiB batches). */
  readonly maxBatchBytes?: number;
  /** Produce requests in flight at once; what arrives meanwhile is sent together next. */
  readonly maxInFlight?: number;
  readonly timeoutMs: number;
}

/**
 * Groups the runs of concurrent requests into produce requests: nothing waits for a timer; while
 * requests are in flight, new runs queue and leave together in the next one. Each caller learns the
 * fate of the request that carried its runs (a caller's runs may span several, all must succeed).
 */
export function batchingSink(o: BatchingSinkOptions): RunSink<ProduceMessage> {
  const maxBytes = o.maxBatchBytes ?? 900 * 1024;
  const maxInFlight = o.maxInFlight ?? 16;
  const queue: Waiting[] = [];
  let inFlight = 0;

  const sendOnce = async (messages: ProduceMessage[]) => {
    try {
      const send = o.producer.send({
        topic: o.topic,
        acks: -1,
        messages: messages.map((m) =>
          m.headers === undefined
            ? { key: m.key, value: m.value }
            : { key: m.key, value: m.value, headers: { ...m.headers } },
        ),
      });
      await acknowledgedWithin(
        send,
        o.timeoutMs,
        () => new KafkaUnavailableError(`Kafka did not acknowledge within ${o.timeoutMs} ms`),
      );
    } catch (error) {
      throw error instanceof KafkaUnavailableError
        ? error
        : new KafkaUnavailableError(`Kafka refused the runs: ${(error as Error).message}`);
    }
  };

  const pump = () => {
    while (inFlight < maxInFlight && queue.length > 0) {
      const taken: Waiting[] = [];
      let bytes = 0;
      while (queue.length > 0 && (taken.length === 0 || bytes + queue[0]!.bytes <= maxBytes)) {
        const next = queue.shift()!;
        taken.push(next);
        bytes += next.bytes;
      }
      inFlight++;
      sendOnce(taken.flatMap((w) => w.messages))
        .then(
          () => taken.forEach((w) => w.resolve()),
          (error: Error) => taken.forEach((w) => w.reject(error)),
        )
        .finally(() => {
          inFlight--;
          pump();
        });
    }
  };

  const enqueue = (messages: readonly ProduceMessage[]): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      queue.push({ messages, bytes: messages.reduce((n, m) => n + sizeOf(m), 0), resolve, reject });
      pump();
    });

  return {
    async send(messages) {
      if (messages.length === 0) return;
      // A caller's runs are split into chunks that each fit one request; all must be acknowledged.
      const chunks: ProduceMessage[][] = [[]];
      let bytes = 0;
      for (const m of messages) {
        const size = sizeOf(m);
        if (chunks.at(-1)!.length > 0 && bytes + size > maxBytes) {
          chunks.push([]);
          bytes = 0;
        }
        chunks.at(-1)!.push(m);
        bytes += size;
      }
      await Promise.all(chunks.map(enqueue));
    },
  };
}
