// What kafkajs spends encoding a produce request of large, compressible messages (the evaluator's
// windows), with and without the lean encoder (packages/kafka/src/lean-encoder.ts): CPU time per MiB
// of message values. One process, no broker: the encoding alone (compression and checksum included).
//
//   npx tsx --conditions=source bench/kafka/produce-encoding.ts          (BENCH_LEAN=0 for kafkajs' own)
import { createRequire } from "node:module";
import kafkajs from "kafkajs";
import { useLeanEncoder, useNativeCrc32C, useSnappy } from "@runhooks/kafka";

const require = createRequire(import.meta.url);
useSnappy();
useNativeCrc32C();
const lean = process.env["BENCH_LEAN"] !== "0";
if (lean) useLeanEncoder();
type Request = { encode(): Promise<{ buffer: Buffer }> };
const produceRequest = require("kafkajs/src/protocol/requests/produce/v3/request.js") as (o: unknown) => Request;

// A window: ~25 runs of ~1.6 KB of JSON, as the evaluator writes them.
const run = (i: number) =>
  JSON.stringify({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    name: "ChatOpenAI",
    run_type: "llm",
    inputs: { q: "Summarise the quarterly report. ".repeat(20) },
    outputs: { a: `The quarter ${i} closed up. `.repeat(20) },
  });
const window = (w: number) =>
  Buffer.from(`{"window_id":"${w}","runs":[${Array.from({ length: 25 }, (_, i) => run(w * 25 + i)).join(",")}]}`);
const WINDOWS_PER_PARTITION = 24; // ~1 MB of values per partition, the evaluator's send budget
const partitions = Array.from({ length: 6 }, (_, p) => ({
  partition: p,
  messages: Array.from({ length: WINDOWS_PER_PARTITION }, (_, k) => ({
    key: `rule-${k}`,
    value: window(p * 100 + k),
    headers: { "runhooks-window-id": `w-${k}` },
  })),
}));
const valueBytes = partitions.reduce((n, p) => n + p.messages.reduce((m, x) => m + x.value.length, 0), 0);

const encodeOnce = () =>
  produceRequest({
    acks: -1,
    timeout: 30000,
    compression: kafkajs.CompressionTypes.Snappy,
    topicData: [{ topic: "runhooks.windows", partitions }],
  }).encode();
for (let i = 0; i < 20; i++) await encodeOnce(); // warm up
const REQUESTS = Number(process.env["BENCH_REQUESTS"] ?? 200);
const cpu = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < REQUESTS; i++) await encodeOnce();
const wall = performance.now() - t0;
const used = process.cpuUsage(cpu);
const mb = (valueBytes * REQUESTS) / 2 ** 20;
console.log(
  `${lean ? "lean encoder" : "kafkajs' encoder"}: ${REQUESTS} produce requests of ${(valueBytes / 2 ** 20).toFixed(2)} MiB of values (6 partitions × ${WINDOWS_PER_PARTITION} windows), Snappy`,
);
console.log(
  `  CPU ${((1000 * (used.user + used.system)) / 1e6 / mb).toFixed(2)} ms per MiB (wall ${(wall / mb).toFixed(2)} ms/MiB)`,
);
console.log(
  `rerun: BENCH_LEAN=${lean ? 1 : 0} BENCH_REQUESTS=${REQUESTS} npx tsx --conditions=source bench/kafka/produce-encoding.ts`,
);
