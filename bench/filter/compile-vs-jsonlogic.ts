// Filter evaluation throughput: the compiled evaluator (@runhooks/rules) against json-logic-js 2.0.5
// (the reference semantics) on the same realistic filters and the same ~1.5 KB LangSmith runs.
//
//   npx tsx --conditions=source bench/filter/compile-vs-jsonlogic.ts
//
// Facts (the run plus derived variables) are computed once per run, as the evaluator does; runFacts
// itself is timed separately. Each figure is the median of several rounds over all runs.
import { cpus, loadavg } from "node:os";
import jsonLogic, { type AdditionalOperation, type RulesLogic } from "json-logic-js";
import { Run } from "@runhooks/contracts";
import { compileFilter, runFacts, validateFilter } from "@runhooks/rules";

const COMMAND = "npx tsx --conditions=source bench/filter/compile-vs-jsonlogic.ts";
const RUNS = 2_000;
const ROUNDS = 15;

/** A deterministic PRNG (mulberry32), so every invocation measures the same runs. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(42);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const hex = (n: number) => Array.from({ length: n }, () => "0123456789abcdef"[Math.floor(random() * 16)]).join("");
const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-8${hex(3)}-${hex(12)}`;

function makeRun(i: number): Run {
  const start = Date.UTC(2024, 3, 5, 1, 28, 54) + i * 37;
  const micros = String(Math.floor(random() * 1e6)).padStart(6, "0");
  const failed = random() < 0.1;
  const id = uuid();
  return Run.parse({
    id,
    trace_id: id,
    name: pick(["ChatOpenAI", "RetrievalQA", "Search", "AgentExecutor"]),
    run_type: pick(["llm", "chain", "tool", "retriever"]),
    status: failed ? "error" : "success",
    error: failed ? "RateLimitError: too many requests" : null,
    start_time: `${new Date(start).toISOString().slice(0, 19)}.${micros}`,
    end_time: `${new Date(start + Math.floor(random() * 9000)).toISOString().slice(0, 19)}.${micros}+00:00`,
    tenant_id: "2ebda79f-2946-4491-a9ad-d642f49e0815",
    session_id: "6a3be6a2-9a8c-4fc8-b4c6-a8983b286cc5",
    dotted_order: `20240405T012854085646Z${id}`,
    is_root: true,
    tags: [pick(["prod", "staging"]), pick(["canary", "stable", "beta"]), "bench"],
    extra: {
      metadata: {
        env: pick(["prod", "staging"]),
        customer: `c-${i % 50}`,
        ls_model_name: pick(["gpt-4o-mini", "gpt-4o"]),
        temperature: 0.2,
      },
      runtime: { sdk: "langsmith-py", sdk_version: "0.1.45", platform: "linux" },
    },
    inputs: { messages: [{ role: "user", content: "Summarise the quarterly report for the board. ".repeat(6) }] },
    outputs: { generations: [{ text: "The quarter closed with revenue up and costs flat. ".repeat(6) }] },
    total_tokens: Math.floor(random() * 4000),
    prompt_tokens: Math.floor(random() * 3000),
    completion_tokens: Math.floor(random() * 1000),
    total_cost: Number((random() / 10).toFixed(5)),
    parent_run_ids: [],
    in_dataset: false,
    app_path: `/o/2ebda79f-2946-4491-a9ad-d642f49e0815/projects/p/6a3be6a2-9a8c-4fc8-b4c6-a8983b286cc5/r/${id}`,
  });
}

const FILTERS: Record<string, unknown> = {
  "DESIGN.md example (llm errors)": {
    and: [{ "==": [{ var: "run_type" }, "llm"] }, { "==": [{ var: "status" }, "error"] }],
  },
  "realistic (6 conditions)": {
    and: [
      { in: [{ var: "run_type" }, ["llm", "chain"]] },
      { "==": [{ var: "metadata.env" }, "prod"] },
      { or: [{ var: "has_error" }, { ">": [{ var: "latency" }, 5] }, { ">=": [{ var: "total_tokens" }, 3000] }] },
      { "!": { some: [{ var: "tags" }, { "==": [{ var: "" }, "canary"] }] } },
    ],
  },
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Evaluations per second of `evaluate` over every run's facts (median of ROUNDS rounds, after warm-up). */
function throughput(
  evaluate: (facts: Record<string, unknown>) => boolean | "error",
  facts: readonly Record<string, unknown>[],
): { perSecond: number; matched: number } {
  let matched = 0;
  for (let w = 0; w < 3; w++) for (const f of facts) evaluate(f);
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    matched = 0;
    const started = performance.now();
    for (let rep = 0; rep < 5; rep++) for (const f of facts) if (evaluate(f) === true) matched += 1;
    rates.push((facts.length * 5) / ((performance.now() - started) / 1000));
  }
  return { perSecond: median(rates), matched: matched / 5 };
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

const runs = Array.from({ length: RUNS }, (_, i) => makeRun(i));
const averageBytes = runs.reduce((sum, run) => sum + JSON.stringify(run).length, 0) / runs.length;
const facts = runs.map(runFacts);

console.log(`$ ${COMMAND}`);
console.log(
  `node ${process.version}, ${RUNS} runs of ${Math.round(averageBytes)} bytes on average (JSON), median of ${ROUNDS} rounds`,
);
console.log(`${cpus().length} CPUs, load average ${loadavg()[0]?.toFixed(1)} (figures shrink on a busy machine)\n`);

const factRates: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const started = performance.now();
  for (const run of runs) runFacts(run);
  factRates.push(runs.length / ((performance.now() - started) / 1000));
}
console.log(`runFacts                     ${fmt(median(factRates)).padStart(12)} runs/s\n`);

for (const [name, filter] of Object.entries(FILTERS)) {
  const valid = validateFilter(filter);
  if (!valid.ok) throw new Error(`${name}: ${JSON.stringify(valid.issues)}`);
  const compiled = compileFilter(valid.value);
  const reference = (f: Record<string, unknown>) =>
    jsonLogic.truthy(jsonLogic.apply(filter as RulesLogic<AdditionalOperation>, f));
  const ours = throughput(compiled, facts);
  const theirs = throughput(reference, facts);
  if (ours.matched !== theirs.matched)
    throw new Error(`${name}: compiled matched ${ours.matched}, json-logic-js ${theirs.matched}`);
  console.log(name);
  console.log(`  compiled evaluator         ${fmt(ours.perSecond).padStart(12)} evaluations/s`);
  console.log(`  json-logic-js 2.0.5        ${fmt(theirs.perSecond).padStart(12)} evaluations/s`);
  console.log(
    `  speed-up                   ${(ours.perSecond / theirs.perSecond).toFixed(1).padStart(12)}x   (both matched ${ours.matched} of ${RUNS} runs)\n`,
  );
}
