// The restart part's live traffic (traces.ts): runs of traces at BENCH_RATE a second to BENCH_TOPIC
// until SIGTERM, in a process of its own. Prints the count produced so far, once a line, every 100 ms.
import { createKafka } from "@runhooks/kafka";
import { traceStream } from "./trace-runs.js";

const brokers = (process.env["BENCH_BROKERS"] ?? "127.0.0.1:9092").split(",");
const topic = process.env["BENCH_TOPIC"]!;
const rate = Number(process.env["BENCH_RATE"] ?? 5000);
const tenants = (process.env["BENCH_TENANTS"] ?? "").split(",");
const kafka = createKafka({ brokers, clientId: "bench-live", logLevel: "error", logger: () => undefined });
const producer = kafka.producer();
await producer.connect();
const next = traceStream(4000, 3, tenants);
let produced = 0;
let stopping = false;
process.once("SIGTERM", () => (stopping = true));
const started = Date.now();
let reported = 0;
process.stdout.write("0\n");
while (!stopping) {
  // At most 500 a request: a process woken late owes many.
  const due = Math.min(500, Math.floor(((Date.now() - started) * rate) / 1000) - produced);
  if (due > 0) {
    await producer.send({ topic, acks: 1, messages: Array.from({ length: due }, next) });
    produced += due;
  } else await new Promise((r) => setTimeout(r, 10));
  if (Date.now() - reported >= 100) {
    reported = Date.now();
    process.stdout.write(`${produced}\n`);
  }
}
await producer.disconnect();
