// The Kafka producer thread (producer-thread.ts): connects, then produces each request's runs through
// a batching sink and answers with their fate. Its only channel is the parent port.
import { parentPort, workerData } from "node:worker_threads";
import { JavaCompatiblePartitioner, createKafka, useLeanProduce } from "@runhooks/kafka";
import { batchingSink, type ProduceMessage } from "./producer.js";
import type { ThreadLifecycleMessage } from "@runhooks/telemetry";
import type { FromProducer, ProducerWorkerData, ToProducer } from "./producer-thread.js";

const port = parentPort!;
const data = workerData as ProducerWorkerData;

const post = (message: FromProducer | ThreadLifecycleMessage) => port.postMessage(message);
const log = (level: "error" | "warn" | "info" | "debug", message: string, fields: Record<string, unknown>) => {
  try {
    post({ type: "log", level, message, fields });
  } catch {
    // Fields that cannot cross threads (functions…) go as text.
    post({
      type: "log",
      level,
      message,
      fields: { fields: String(JSON.stringify(fields, (_k, v: unknown) => (typeof v === "function" ? undefined : v))) },
    });
  }
};

// Bounded retries, the client's own (connecting, metadata) as well as the producer's: while Kafka is
// away a send fails within about a second and the request gets a prompt 503 (the client retries). With
// kafkajs' default client retries (up to 30 s apart) a send to a stopped broker went on retrying long
// after its request was refused, and landed once the broker was back: a duplicate of the client's retry.
// Not idempotent: a produce whose ack is lost may still duplicate (at least once; runs carry their id).
const retryTimeMs = Math.max(200, Math.floor(data.timeoutMs / 4));
// Before the first produce: each request's records are written straight into one buffer
// (lean-produce.ts), not through kafkajs' encoder per record, the producer thread's largest cost.
const leanProduce = useLeanProduce();
const kafka = createKafka({
  brokers: data.brokers,
  clientId: data.clientId,
  security: data.security,
  logger: (level, message, fields) => log(level === "error" ? "warn" : level, message, fields),
  logLevel: "error",
  retry: { retries: 2, initialRetryTimeMs: 100, maxRetryTimeMs: retryTimeMs },
});
const producer = kafka.producer({
  allowAutoTopicCreation: false,
  createPartitioner: JavaCompatiblePartitioner,
  retry: { retries: 3, initialRetryTime: 100, maxRetryTime: retryTimeMs },
});
const sink = batchingSink({ producer, topic: data.topic, timeoutMs: data.timeoutMs });

function unpack(m: Extract<ToProducer, { type: "send" }>): ProduceMessage[] {
  const bytes = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
  const count = m.ends.length / 2;
  const out: ProduceMessage[] = new Array<ProduceMessage>(count);
  let start = 0;
  for (let i = 0; i < count; i++) {
    const keyEnd = m.ends[2 * i]!;
    const end = m.ends[2 * i + 1]!;
    // The key's bytes are what kafkajs would make of the string: same partition, same record.
    const key = bytes.subarray(start, keyEnd);
    const value = bytes.subarray(keyEnd, end);
    const headers = m.headers?.[i];
    out[i] = headers === undefined ? { key, value } : { key, value, headers };
    start = end;
  }
  return out;
}

port.on("message", (m: ToProducer) => {
  if (m.type === "send") {
    sink.send(unpack(m)).then(
      () => post({ type: "done", id: m.id }),
      (error: Error) => post({ type: "done", id: m.id, error: error.message }),
    );
  } else {
    // Closing the port (after the producer) leaves the thread nothing to do: it exits.
    void producer
      .disconnect()
      .catch(() => undefined)
      .then(() => port.close());
  }
});

producer.connect().then(
  () => {
    if (leanProduce !== "lean") log("warn", "kafkajs encodes the produce requests", { leanProduce });
    post({ type: "ready" });
  },
  (error: Error) => {
    post({ type: "failed", message: `could not connect to Kafka: ${error.message}` });
    port.close();
  },
);
