import type { KafkaSecurity } from "@runhooks/kafka";
import { startServiceThread, type Logger } from "@runhooks/telemetry";
import { KafkaUnavailableError, type RunMessage, type RunSink } from "./producer.js";

/**
 * The Kafka producer on a thread of its own. Producing costs kafkajs about as much CPU per run (record
 * encoding, CRCs, socket writes) as everything else ingest does to a run — reading, checking and
 * writing it — so on one thread each waits for the other. On its own thread the producer runs beside
 * the HTTP event loop, which never encodes a record; a request's runs cross over as one packed buffer
 * (moved, not copied) and only its answer comes back.
 */

export interface ProducerThreadOptions {
  readonly brokers: readonly string[];
  /** Plain data, so it crosses to the thread as it is. */
  readonly security?: KafkaSecurity;
  readonly clientId: string;
  readonly topic: string;
  /** How long a produce may take before its runs are refused (503). */
  readonly timeoutMs: number;
  readonly log: Logger;
}

export interface ProducerThread extends RunSink {
  /** Undefined while the thread runs; otherwise why it stopped (reported by /healthz). */
  problem(): string | undefined;
  /** Disconnects the producer (after what is in flight) and ends the thread. */
  stop(): Promise<void>;
}

/** What the thread is started with. */
export interface ProducerWorkerData {
  readonly brokers: readonly string[];
  readonly security?: KafkaSecurity;
  readonly clientId: string;
  readonly topic: string;
  readonly timeoutMs: number;
}

/**
 * To the thread: one request's runs, packed end to end in `bytes` as key, value, key, value…;
 * `ends[2i]` is where the i-th key ends, `ends[2i + 1]` where its value ends. Packed rather than sent as
 * an array of keys: cloning a hundred strings costs more than all the rest of the crossing.
 */
export type ToProducer =
  | {
      readonly type: "send";
      readonly id: number;
      readonly ends: Uint32Array;
      readonly bytes: Uint8Array;
      readonly headers?: readonly (Readonly<Record<string, string>> | undefined)[];
    }
  | { readonly type: "stop" };

/** From the thread, besides its lifecycle (ready, failed, log). */
export type FromProducer = { readonly type: "done"; readonly id: number; readonly error?: string };

interface Pending {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** Starts the thread and resolves once its producer is connected; rejects if it cannot connect. */
export async function startProducerThread(o: ProducerThreadOptions): Promise<ProducerThread> {
  const data: ProducerWorkerData = {
    brokers: o.brokers,
    security: o.security,
    clientId: o.clientId,
    topic: o.topic,
    timeoutMs: o.timeoutMs,
  };
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let stopping = false;
  // The thread's code: producer-worker beside this file (compiled, or its source in tests).
  const thread = await startServiceThread<ToProducer, FromProducer>({
    from: import.meta.url,
    name: "producer-worker",
    workerData: data,
    label: "the Kafka producer thread",
    log: o.log,
    onMessage(m) {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.error === undefined) p.resolve();
      else p.reject(new KafkaUnavailableError(m.error));
    },
    onStopped(reason) {
      for (const [id, p] of pending) {
        clearTimeout(p.timer);
        pending.delete(id);
        p.reject(new KafkaUnavailableError(reason));
      }
    },
  });

  return {
    problem: () => thread.problem(),
    send(messages: readonly RunMessage[]): Promise<void> {
      if (messages.length === 0) return Promise.resolve();
      const problem = thread.problem();
      if (problem !== undefined || stopping)
        return Promise.reject(new KafkaUnavailableError(problem ?? "ingest is stopping"));
      let total = 0;
      for (const m of messages) total += Buffer.byteLength(m.key) + m.bytes;
      // A buffer of its own (not a slice of Node's shared pool), so it can be moved to the thread.
      const bytes = Buffer.allocUnsafeSlow(total);
      const ends = new Uint32Array(2 * messages.length);
      let at = 0;
      let traced = false;
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        at += bytes.write(m.key, at, "utf8");
        ends[2 * i] = at;
        at += bytes.write(m.value, at, "utf8");
        ends[2 * i + 1] = at;
        if (m.headers !== undefined) traced = true;
      }
      const id = nextId++;
      return new Promise<void>((resolve, reject) => {
        // The thread answers every send (its own produce timeout is timeoutMs); this only guards
        // against a thread that stopped answering.
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new KafkaUnavailableError(`the Kafka producer thread did not answer within ${o.timeoutMs * 2} ms`));
        }, o.timeoutMs * 2);
        pending.set(id, { resolve, reject, timer });
        const message: ToProducer = {
          type: "send",
          id,
          ends,
          bytes,
          ...(traced ? { headers: messages.map((m) => m.headers) } : {}),
        };
        thread.post(message, [bytes.buffer, ends.buffer]);
      });
    },
    async stop() {
      stopping = true;
      await thread.stop({ type: "stop" }, 10_000);
    },
  };
}
