// The Kafka producer thread (producer-thread.ts): connects, then produces each request's runs through
// a batching sink and answers with their fate. Its only channel is the parent port.
import { parentPort, workerData } from "node:worker_threads";
import { createKafka } from "@runhooks/kafka";
import kafkajs from "kafkajs";
import { batchingSink, type ProduceMessage } from "./producer.js";
import type { FromProducer, ProducerWorkerData, ToProducer } from "./producer-thread.js";

const { Partitioners } = kafkajs;
const port = parentPort!;
const data = workerData as ProducerWorkerData;

const post = (message: FromProducer) => port.postMessage(message);
const log = (level: "error" | "warn" | "info" | "debug", message: string, fields: Record<string, unknown>) => {
  try {
    post({ type: "log", level, message, fields });
  } catch {
    // Fields that cannot cross threads (functions…) go as text.
    post({ type: "log", level, message, fields: { fields: String(JSON.stringify(fields, (_k, v: unknown) => (typeof v === "function" ? undefined : v))) } });
  }
};

const kafka = createKafka({
  brokers: data.brokers,
  clientId: data.clientId,
  logger: (level, message, fields) => log(level === "error" ? "warn" : level, message, fields),
  logLevel: "error",
});
// Bounded retries: while Kafka is away, requests fail over to 503 (the client retries) instead of
// hanging. Not idempotent: a produce retried after a lost ack may duplicate (at least once; runs
// carry their id).
const producer = kafka.producer({
  allowAutoTopicCreation: false,
  createPartitioner: Partitioners.DefaultPartitioner,
  retry: { retries: 3, initialRetryTime: 100, maxRetryTime: Math.max(200, Math.floor(data.timeoutMs / 4)) },
});
const sink = batchingSink({ producer, topic: data.topic, timeoutMs: data.timeoutMs });

function unpack(m: Extract<ToProducer, { type: "send" }>): ProduceMessage[] {
  const values = Buffer.from(m.values.buffer, m.values.byteOffset, m.values.byteLength);
  const out: ProduceMessage[] = new Array<ProduceMessage>(m.keys.length);
  let start = 0;
  for (let i = 0; i < m.keys.length; i++) {
    const end = m.ends[i]!;
    const headers = m.headers?.[i];
    const value = values.subarray(start, end);
    out[i] = headers === undefined ? { key: m.keys[i]!, value } : { key: m.keys[i]!, value, headers };
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
    void producer
      .disconnect()
      .catch(() => undefined)
      .then(() => {
        post({ type: "stopped" });
        port.close();
      });
  }
});

producer.connect().then(
  () => post({ type: "ready" }),
  (error: Error) => {
    post({ type: "failed", message: `could not connect to Kafka: ${error.message}` });
    port.close();
  },
);
