// Evaluator at scale: many tenants, many rules, many open windows. Each figure comes from a process
// of its own (scale-child.ts) — a raw consumer (consume + JSON.parse) or one evaluator — so the peak RSS
// is the evaluator's, not this harness's, and the rule book's load from the compacted rules topic is
// timed from the evaluator's start.
//
//   npm run bench:evaluator-scale      (BENCH_RUNS=100000; BENCH_ROUNDS=1; BENCH_SCENARIOS=0,1 picks)
//
// Scenarios:
//   0  100,000 rules over 10,000 tenants (10 alerting rules each, five kinds of filter), 5 s windows:
//      targets ≥ 0.5× raw, peak RSS ≤ 512 MiB, rule book loaded in ≤ 10 s
//   1  10,000 rules over 1,000 tenants, one-hour windows that every rule opens (10,000 open at the
//      end): target peak RSS ≤ 256 MiB
import { fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { createKafka, waitForTopics } from "@runhooks/kafka";
import { readInfraEnv, startStack } from "@runhooks/infra";
import type { RuleVersion } from "@runhooks/contracts";
import { EVALUATOR_NODE_FLAGS } from "@runhooks/evaluator";
import { deleteBenchTopics } from "../support/bench-topics.js";
import { median } from "../support/stats.js";
import type { ChildResult, ChildTask } from "./scale-child.js";

const N = Number(process.env["BENCH_RUNS"] ?? 100_000);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 1);
const PARTITIONS = 6;
const say = (line: string) => console.log(line);
const child = fileURLToPath(new URL("./scale-child.ts", import.meta.url));

interface Scenario {
  readonly name: string;
  readonly tenants: readonly string[];
  readonly rules: RuleVersion[];
  /** Runs produced (and read). */
  readonly runs: number;
  readonly targets: { readonly ratio?: number; readonly rssMiB: number; readonly loadSeconds?: number };
}

function run(i: number, tenants: readonly string[]): string {
  const id = randomUUID();
  const start = Date.now() - 2000 - (i % 5000);
  const tenant = tenants[i % tenants.length]!;
  return JSON.stringify({
    id,
    trace_id: id,
    name: i % 3 === 0 ? "ChatOpenAI" : i % 3 === 1 ? "RetrievalQA" : "Search",
    run_type: i % 3 === 0 ? "llm" : i % 3 === 1 ? "chain" : "tool",
    status: i % 10 === 0 ? "error" : "success",
    error: i % 10 === 0 ? "RateLimitError: too many requests" : null,
    start_time: new Date(start).toISOString(),
    end_time: new Date(start + (i % 7000)).toISOString(),
    tenant_id: tenant,
    session_id: "6a3be6a2-9a8c-4fc8-b4c6-a8983b286cc5",
    dotted_order: `20240405T012854085646Z${id}`,
    parent_run_id: null,
    is_root: true,
    tags: [`tag-${i % 20}`, "bench"],
    extra: { metadata: { env: i % 2 ? "prod" : "staging", customer: `c-${i % 50}`, ls_model_name: "gpt-4o-mini" } },
    inputs: { messages: [{ role: "user", content: "Summarise the quarterly report for the board. ".repeat(8) }] },
    outputs: { generations: [{ text: "The quarter closed with revenue up and costs flat. ".repeat(8) }] },
    total_tokens: i % 2000,
    prompt_tokens: i % 1500,
    completion_tokens: i % 500,
    total_cost: (i % 2000) * 0.000002,
    feedback_stats: null,
    app_path: `/o/${tenant}/projects/p/6a3be6a2/r/${id}`,
  });
}

/** Alerting-style rules, as bench:evaluator's: a few runs in a hundred each. */
function selectiveFilter(k: number): unknown {
  switch (k % 5) {
    case 0:
      return { and: [{ "==": [{ var: "run_type" }, "llm"] }, { "==": [{ var: "status" }, "error"] }] };
    case 1:
      return { and: [{ "==": [{ var: "run_type" }, "chain"] }, { ">": [{ var: "latency" }, 6.9 + (k % 3) * 0.01] }] };
    case 2:
      return { ">": [{ var: "total_cost" }, 0.00398 - (k % 10) * 0.000001] };
    case 3:
      return { and: [{ var: "has_error" }, { in: [`tag-${k % 20}`, { var: "tags" }] }] };
    default:
      return {
        and: [{ "==": [{ var: "metadata.env" }, "prod"] }, { "==": [{ var: "metadata.customer" }, `c-${k % 50}`] }],
      };
  }
}

function rules(count: number, tenants: readonly string[], filterFor: (k: number) => unknown, seconds: number) {
  return Array.from({ length: count }, (_, i): RuleVersion => ({
    schema_version: 1,
    kind: "rule",
    rule_id: randomUUID(),
    version: 1,
    tenant_id: tenants[i % tenants.length]!,
    session_id: null,
    enabled: true,
    // The k-th rule of its tenant: each tenant has every kind of filter.
    filter: filterFor(Math.floor(i / tenants.length)) as RuleVersion["filter"],
    sampling_rate: 1,
    window: { seconds, max_runs: 10_000 },
  }));
}

const tenants = (n: number) => Array.from({ length: n }, () => randomUUID());
const t10k = tenants(10_000);
const t1k = tenants(1_000);
const scenarios: Scenario[] = [
  {
    name: "100,000 rules over 10,000 tenants",
    tenants: t10k,
    rules: rules(100_000, t10k, selectiveFilter, 5),
    runs: N,
    targets: { ratio: 0.5, rssMiB: 512, loadSeconds: 10 },
  },
  {
    // Every rule of a tenant takes its runs of one kind (run_type), and a window lasts an hour: each
    // rule holds one open window at the end.
    name: "10,000 rules, 10,000 open windows",
    tenants: t1k,
    rules: rules(10_000, t1k, (k) => ({ "==": [{ var: "run_type" }, ["llm", "chain", "tool"][k % 3]!] }), 3600),
    // ~7 runs per window: what is measured is what an open window costs, not the runs it holds.
    runs: Math.min(N, 20_000),
    targets: { rssMiB: 256 },
  },
];

function inChild(task: ChildTask): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const p = fork(child, [], {
      execArgv: [
        // The evaluator as deployed (its bin's shebang).
        ...(task.mode === "evaluator" ? EVALUATOR_NODE_FLAGS : []),
        "--conditions=source",
        "--import",
        "tsx",
      ],
      stdio: "inherit",
    });
    p.once("message", (m) => resolve(m as ChildResult));
    p.once("exit", (code) => (code === 0 ? undefined : reject(new Error(`${task.mode} process exited ${code}`))));
    p.send(task);
  });
}

const load = () => loadavg()[0]!.toFixed(1);
const stack = await startStack(readInfraEnv(), (l) => say(`[stack] ${l}`));
try {
  const brokers = stack.brokers;
  const prefix = `bench-scale-${randomUUID().slice(0, 8)}`;
  const kafka = createKafka({ brokers, clientId: "bench", logLevel: "error", logger: () => undefined });
  const admin = kafka.admin();
  const producer = kafka.producer();
  await Promise.all([admin.connect(), producer.connect()]);
  // The evaluator's trace snapshots go to the prefix's traces topic (none are written: no rule here is
  // trace-aware, but the evaluator reads it at start).
  await admin.createTopics({
    waitForLeaders: false,
    topics: [
      { topic: `${prefix}.traces`, numPartitions: 1, configEntries: [{ name: "cleanup.policy", value: "compact" }] },
    ],
  });
  await waitForTopics(admin, [`${prefix}.traces`]);
  const only = process.env["BENCH_SCENARIOS"]?.split(",").map(Number);
  const rows: string[][] = [];
  for (const [i, s] of scenarios.entries()) {
    if (only && !only.includes(i)) continue;
    const topic = (name: string) => `${prefix}.${name}.${i}`;
    await admin.createTopics({
      waitForLeaders: false,
      topics: [
        {
          topic: topic("runs"),
          numPartitions: PARTITIONS,
          configEntries: [{ name: "message.timestamp.type", value: "LogAppendTime" }],
        },
        {
          topic: topic("rules"),
          numPartitions: 1,
          configEntries: [
            { name: "message.timestamp.type", value: "LogAppendTime" },
            { name: "cleanup.policy", value: "compact" },
          ],
        },
        { topic: topic("windows"), numPartitions: PARTITIONS },
      ],
    });
    await waitForTopics(admin, [topic("runs"), topic("rules"), topic("windows")]);
    say(`${s.name}: producing ${s.rules.length} rules and ${s.runs} runs (load ${load()})…`);
    for (let r = 0; r < s.rules.length; r += 2000) {
      const messages = s.rules.slice(r, r + 2000).map((v) => ({ key: v.rule_id, value: JSON.stringify(v) }));
      await producer.send({ topic: topic("rules"), acks: -1, messages });
    }
    for (let r = 0; r < s.runs; r += 1000) {
      const messages = Array.from({ length: Math.min(1000, s.runs - r) }, (_, k) => {
        const value = run(r + k, s.tenants);
        return { key: (JSON.parse(value) as { trace_id: string }).trace_id, value };
      });
      await producer.send({ topic: topic("runs"), acks: -1, messages });
    }
    const task = (mode: ChildTask["mode"], round: number): ChildTask => ({
      mode,
      brokers,
      prefix,
      runsTopic: topic("runs"),
      rulesTopic: topic("rules"),
      windowsTopic: topic("windows"),
      group: `${prefix}-${mode}-${i}-${round}`,
      runs: s.runs,
      rules: s.rules.length,
    });
    const raws: ChildResult[] = [];
    const evals: ChildResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const r = await inChild(task("raw", round));
      const e = await inChild(task("evaluator", round));
      raws.push(r);
      evals.push(e);
      say(
        `  round ${round + 1}/${ROUNDS}: raw ${r.rate.toFixed(0)} runs/s, evaluator ${e.rate.toFixed(0)} (${(e.rate / r.rate).toFixed(2)}×), ` +
          `rule book ${e.loadSeconds!.toFixed(1)} s (${e.loadCpuSeconds!.toFixed(1)} s CPU), peak RSS ${e.peakRssMiB.toFixed(0)} MiB, ${e.openWindows} open windows (load ${load()})`,
      );
      say(
        `    raw peak RSS ${r.peakRssMiB.toFixed(0)} MiB; evaluator memory (MiB): ${Object.entries(e.memory!)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")}`,
      );
    }
    const ratio = median(evals.map((e, k) => e.rate / raws[k]!.rate));
    const rss = Math.max(...evals.map((e) => e.peakRssMiB));
    const loadS = median(evals.map((e) => e.loadSeconds!));
    const loadCpu = median(evals.map((e) => e.loadCpuSeconds!));
    const t = s.targets;
    rows.push([
      s.name,
      `${ratio.toFixed(2)}×${t.ratio === undefined ? "" : ` (≥ ${t.ratio})`}`,
      `${rss.toFixed(0)} MiB (≤ ${t.rssMiB})`,
      `${loadS.toFixed(1)} s, ${loadCpu.toFixed(1)} s CPU${t.loadSeconds === undefined ? "" : ` (≤ ${t.loadSeconds})`}`,
      String(median(evals.map((e) => e.openWindows ?? 0))),
      `${median(raws.map((r) => r.rate)).toFixed(0)}`,
      load(),
    ]);
  }
  await Promise.all([producer.disconnect(), admin.disconnect()]);
  await deleteBenchTopics(brokers, prefix);
  const header = [
    "scenario",
    "ratio to raw",
    "evaluator peak RSS",
    "rule book load",
    "open windows",
    "raw runs/s",
    "load avg",
  ];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join("  ");
  say("");
  say(line(header));
  for (const r of rows) say(line(r));
  say("");
  say(
    `${N} runs (scenario 1: at most 20,000), ${PARTITIONS} partitions, ${ROUNDS} round(s); raw and the evaluator each in a process of their own.`,
  );
  say(
    "Peak RSS: the evaluator process' maxRSS; rule book load: from its start until it holds every rule (wall, and its CPU time).",
  );
  say("load avg: the machine's 1-minute load average when the scenario ended (2 cores; other work shares them).");
  say(`rerun: BENCH_RUNS=${N} BENCH_ROUNDS=${ROUNDS} npm run bench:evaluator-scale`);
} finally {
  await stack.stop();
}
