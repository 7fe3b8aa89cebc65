// The evaluator's whole per-run path without a broker, for bench:evaluator's scenarios: each message
// classified and folded as fold-batch.ts does it, every CUT_EVERY messages of a partition its closed
// parts bundled as a cut bundles them (`windowMessages`), chunked into sends and encoded as kafkajs
// encodes a produce request (Snappy, checksums; the lean encoder and sliced values). A last tick
// closes every window, so every part is published. Scenarios are measured in turns in one process, so
// the machine's drift falls on each alike: CPU per run, and the collector's share, compare within a
// round far more steadily than bench:evaluator's rates.
//
//   npx tsx --conditions=source bench/evaluator/pipeline.ts
//   BENCH_SCENARIOS=1,3 BENCH_RUNS=100000 BENCH_ROUNDS=5
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { PerformanceObserver } from "node:perf_hooks";
import kafkajs from "kafkajs";
import { useLeanEncoder, useNativeCrc32C, useSnappy } from "@runhooks/kafka";
import { applyRuleVersions, createRuleBook, createStreamState, streamStep, type ClosedPart } from "@runhooks/rules";
import {
  DEFAULT_MAX_RUN_DEPTH,
  PARTITION_BUDGET_BYTES,
  SEND_BUDGET_BYTES,
  byteBudgetChunks,
  classifyMessage,
  foldInputOf,
  windowMessages,
} from "@runhooks/evaluator";
import { median } from "../support/stats.js";
import { benchRules, run, tenants } from "./scale-data.js";

const require = createRequire(import.meta.url);
useSnappy();
useNativeCrc32C();
useLeanEncoder();
type Request = { encode(): Promise<{ buffer: Buffer }> };
const produceRequest = require("kafkajs/src/protocol/requests/produce/v3/request.js") as (o: unknown) => Request;

const N = Number(process.env["BENCH_RUNS"] ?? 100_000);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 5);
const PARTITIONS = 6;
const WINDOW_S = 5;
/** bench:evaluator produces about this fast: its runs span two windows. */
const RUNS_PER_S = 40_000;
/** The fold's cut (cut-policy.ts CUT_EVERY). */
const CUT_EVERY = 2500;
const limits = { maxBytes: 512 * 1024, maxDepth: DEFAULT_MAX_RUN_DEPTH };
const TENANTS = tenants(10);
const scenarios = [
  { name: "1 rule", rules: benchRules(1, TENANTS.slice(0, 1), WINDOW_S) },
  { name: "100 rules (10 tenants)", rules: benchRules(100, TENANTS, WINDOW_S) },
  { name: "100 rules (1 tenant)", rules: benchRules(100, TENANTS.slice(0, 1), WINDOW_S) },
  { name: "1000 rules (10 tenants)", rules: benchRules(1000, TENANTS, WINDOW_S) },
];
const only = process.env["BENCH_SCENARIOS"]?.split(",").map(Number) ?? [1, 3];
const chosen = scenarios.filter((_, i) => only.includes(i));

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ["gc"] });

const messages = Array.from({ length: N }, (_, i) => ({
  value: Buffer.from(run(i, TENANTS)),
  partition: (i * 7919) % PARTITIONS,
}));

/** Wall ms spent bundling (`windowMessages`) and encoding the produce requests, this pass. */
const spent = { bundling: 0, encoding: 0 };

/** Bundles a partition's closed parts and encodes them as the produce requests a flush sends. */
async function publish(parts: ClosedPart[]): Promise<number> {
  if (parts.length === 0) return 0;
  const pending = parts.map((part) => ({
    part,
    traceparent: undefined,
    windowsPartition: part.ruleId.charCodeAt(1) % PARTITIONS,
  }));
  let bytes = 0;
  const t0 = performance.now();
  const messages = windowMessages(pending);
  const t1 = performance.now();
  spent.bundling += t1 - t0;
  for (const chunk of byteBudgetChunks(
    [{ topic: "runhooks.windows", messages }],
    PARTITION_BUDGET_BYTES,
    SEND_BUDGET_BYTES,
  )) {
    const request = produceRequest({
      acks: -1,
      timeout: 30000,
      compression: kafkajs.CompressionTypes.Snappy,
      topicData: chunk.map(({ topic, messages: ms }) => ({
        topic,
        partitions: Array.from({ length: PARTITIONS }, (_, p) => ({
          partition: p,
          messages: ms.filter((m) => m.partition === p),
        })).filter((p) => p.messages.length > 0),
      })),
    });
    bytes += (await request.encode()).buffer.length;
  }
  spent.encoding += performance.now() - t1;
  parts.length = 0;
  return bytes;
}

async function pass(s: (typeof scenarios)[number]) {
  const book = createRuleBook();
  applyRuleVersions(
    book,
    s.rules.map((rule) => ({ ruleId: rule.rule_id, rule, effectiveFrom: 0 })),
  );
  const states = Array.from({ length: PARTITIONS }, (_, p) => createStreamState(p));
  const offsets = new Array<number>(PARTITIONS).fill(0);
  const closed = Array.from({ length: PARTITIONS }, (): ClosedPart[] => []);
  // One window boundary a second into the runs, as bench:evaluator's production starts.
  const t0 = Math.ceil(Date.now() / (WINDOW_S * 1000)) * WINDOW_S * 1000 - 1000;
  let parts = 0;
  let bytes = 0;
  gcMs = 0;
  spent.bundling = 0;
  spent.encoding = 0;
  const cpu = process.cpuUsage();
  for (const [i, m] of messages.entries()) {
    const time = t0 + Math.floor((i * 1000) / RUNS_PER_S);
    const p = m.partition;
    const offset = offsets[p]!++;
    const c = classifyMessage({ headers: {}, value: m.value }, limits, book, time);
    for (const part of streamStep(states[p]!, foldInputOf(c, offset, time, m.value))) closed[p]!.push(part);
    if (offsets[p]! % CUT_EVERY === 0) {
      parts += closed[p]!.length;
      bytes += await publish(closed[p]!);
    }
  }
  // The closing tick: past every window's end.
  const end = t0 + Math.ceil(N / RUNS_PER_S + 2) * WINDOW_S * 1000;
  for (let p = 0; p < PARTITIONS; p++) {
    for (const part of streamStep(states[p]!, { kind: "time", offset: offsets[p]!, time: end })) closed[p]!.push(part);
    parts += closed[p]!.length;
    bytes += await publish(closed[p]!);
  }
  const used = process.cpuUsage(cpu);
  await new Promise((r) => setTimeout(r, 10));
  return {
    usPerRun: (used.user + used.system) / N,
    gcUsPerRun: (gcMs * 1000) / N,
    bundlingUsPerRun: (spent.bundling * 1000) / N,
    encodingUsPerRun: (spent.encoding * 1000) / N,
    parts,
    mib: bytes / 2 ** 20,
  };
}

console.log(
  `${N} runs (~${(messages[0]!.value.length / 1024).toFixed(1)} KB), ${PARTITIONS} partitions, ${ROUNDS} rounds`,
);
const results = new Map<string, number[]>(chosen.map((s) => [s.name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const s of chosen) {
    const r = await pass(s);
    results.get(s.name)!.push(r.usPerRun);
    console.log(
      `  round ${round + 1} ${s.name.padEnd(24)} ${r.usPerRun.toFixed(2)} µs/run (GC ${r.gcUsPerRun.toFixed(2)}, bundling ${r.bundlingUsPerRun.toFixed(2)}, encoding ${r.encodingUsPerRun.toFixed(2)}), ${r.parts} parts, ${r.mib.toFixed(0)} MiB encoded (load ${loadavg()[0]!.toFixed(1)})`,
    );
  }
}
for (const [name, v] of results)
  console.log(
    `${name.padEnd(24)} median ${median(v).toFixed(2)} µs/run (${Math.min(...v).toFixed(2)}–${Math.max(...v).toFixed(2)})`,
  );
console.log(
  `rerun: BENCH_SCENARIOS=${only.join(",")} BENCH_RUNS=${N} BENCH_ROUNDS=${ROUNDS} npx tsx --conditions=source bench/evaluator/pipeline.ts`,
);
