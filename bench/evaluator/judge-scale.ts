// The evaluator's per-run work without Kafka: each message classified (decoded, judged against the
// rule book) and folded into its partition's windows, exactly as fold-batch.ts does it, over runs as
// `bench:evaluator-scale` makes them. Shapes of rules over tenants (ten rules per tenant, the same
// runs and match rate) are measured in turns in one process, so the machine's drift falls on each
// alike: what grows with the number of tenants and rules shows as CPU per run.
//
//   npx tsx --conditions=source bench/evaluator/judge-scale.ts
//   BENCH_SHAPES=100000/10000,10000/1000,1000/100 BENCH_RUNS=100000 BENCH_ROUNDS=5
import { PerformanceObserver } from "node:perf_hooks";
import { loadavg } from "node:os";
import {
  applyRuleVersions,
  createRuleBook,
  createStreamState,
  streamStep,
  type RuleBook,
  type StreamState,
} from "@runhooks/rules";
import { DEFAULT_MAX_RUN_DEPTH, classifyMessage, foldInputOf } from "@runhooks/evaluator";
import { rules, run, selectiveFilter, tenants } from "./scale-data.js";

const N = Number(process.env["BENCH_RUNS"] ?? 100_000);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 5);
const PARTITIONS = 6;
/** Runs per second of log time: the scale bench produces about this fast. */
const RUNS_PER_S = 20_000;
const shapes = (process.env["BENCH_SHAPES"] ?? "100000/10000,10000/1000,1000/100")
  .split(",")
  .map((x) => x.split("/").map(Number) as [number, number]);
const limits = { maxBytes: 512 * 1024, maxDepth: DEFAULT_MAX_RUN_DEPTH };

let gcMs = 0;
let gcs = { minor: 0, major: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcMs += e.duration;
    const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
    // perf_hooks.constants.NODE_PERFORMANCE_GC_MINOR
    if (kind === 1) gcs.minor++;
    else gcs.major++;
  }
}).observe({ entryTypes: ["gc"] });

interface Shape {
  readonly name: string;
  readonly book: RuleBook;
  readonly messages: { readonly value: Buffer; readonly partition: number }[];
}

function shape([r, t]: [number, number]): Shape {
  const ts = tenants(t);
  const book = createRuleBook();
  const versions = rules(r, ts, selectiveFilter, 5);
  for (let i = 0; i < versions.length; i += 2000)
    applyRuleVersions(
      book,
      versions.slice(i, i + 2000).map((rule) => ({ ruleId: rule.rule_id, rule, effectiveFrom: 0 })),
    );
  const messages = Array.from({ length: N }, (_, i) => ({
    value: Buffer.from(run(i, ts)),
    partition: (i * 7919) % PARTITIONS,
  }));
  return { name: `${r}/${t}`, book, messages };
}

async function pass(
  s: Shape,
): Promise<{ usPerRun: number; matched: number; parts: number; gcMs: number; gcs: string }> {
  const states: StreamState[] = Array.from({ length: PARTITIONS }, (_, p) => createStreamState(p));
  const offsets = new Array<number>(PARTITIONS).fill(0);
  const t0 = Date.now();
  let matched = 0;
  let parts = 0;
  gcMs = 0;
  gcs = { minor: 0, major: 0 };
  const cpu = process.cpuUsage();
  for (const [i, m] of s.messages.entries()) {
    const time = t0 + Math.floor((i * 1000) / RUNS_PER_S);
    const state = states[m.partition]!;
    const offset = offsets[m.partition]!++;
    const c = classifyMessage({ headers: {}, value: m.value }, limits, s.book, time);
    if (c.kind === "matched") matched++;
    parts += streamStep(state, foldInputOf(c, offset, time, m.value)).length;
  }
  const used = process.cpuUsage(cpu);
  // The GC entries of the pass are delivered once it yields.
  await new Promise((r) => setTimeout(r, 10));
  return {
    usPerRun: (used.user + used.system) / N,
    matched,
    parts,
    gcMs,
    gcs: `${gcs.minor} minor, ${gcs.major} major`,
  };
}

const built = shapes.map(shape);
console.log(`${N} runs, ${PARTITIONS} partitions, ${ROUNDS} rounds; shapes ${built.map((s) => s.name).join(", ")}`);
const results = new Map<string, number[]>(built.map((s) => [s.name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const s of built) {
    const r = await pass(s);
    results.get(s.name)!.push(r.usPerRun);
    console.log(
      `  round ${round + 1} ${s.name.padEnd(12)} ${r.usPerRun.toFixed(2)} µs/run (GC ${r.gcMs.toFixed(0)} ms: ${r.gcs}), matched ${r.matched}, parts closed ${r.parts} (load ${loadavg()[0]!.toFixed(1)})`,
    );
  }
}
for (const [name, v] of results) {
  const sorted = [...v].sort((a, b) => a - b);
  console.log(
    `${name.padEnd(12)} median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} µs/run (${sorted[0]!.toFixed(2)}–${sorted.at(-1)!.toFixed(2)})`,
  );
}
