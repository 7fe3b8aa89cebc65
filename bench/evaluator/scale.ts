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
import { produceClosingTail, tailOf } from "./closing-tail.js";
import { rules, run, selectiveFilter, tenants } from "./scale-data.js";

const N = Number(process.env["BENCH_RUNS"] ?? 100_000);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 1);
const PARTITIONS = 6;
const say = (line: string) => console.log(line);
const child = fileURLToPath(new URL("./scale-child.ts", import.meta.url));

interface Scenario {
  readonly name: string;
  readonly tenants: readonly string[];
  readonly rules: RuleVersion[];
  /** Runs produced and measured. */
  readonly runs: number;
  /** Its rules' window (ms) when a closing tail (closing-tail.ts) follows the runs; none for hour-long windows. */
  readonly closeMs?: number;
  readonly targets: { readonly ratio?: number; readonly rssMiB: number; readonly loadSeconds?: number };
}

const t10k = tenants(10_000);
const t1k = tenants(1_000);
/**
 * BENCH_SHAPES=10000/1000,1000/100: scenario 0's rules and runs at other scales (rules/tenants), appended
 * as scenarios 2, 3…; rules/tenants/n: the runs go to the first n tenants only (a larger book, the runs
 * of a smaller one).
 */
const shapes = (process.env["BENCH_SHAPES"] ?? "")
  .split(",")
  .filter((x) => x !== "")
  .map((x) => x.split("/").map(Number) as [number, number, number?]);
const scenarios: Scenario[] = [
  {
    name: "100,000 rules over 10,000 tenants",
    tenants: t10k,
    rules: rules(100_000, t10k, selectiveFilter, 5),
    runs: N,
    closeMs: 5000,
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
  ...shapes.map(([r, t, n]): Scenario => {
    const ts = tenants(t);
    return {
      name: `${r.toLocaleString("en-US")} rules over ${t.toLocaleString("en-US")} tenants${n === undefined ? "" : `, runs of ${n.toLocaleString("en-US")}`}`,
      tenants: ts.slice(0, n ?? t),
      rules: rules(r, ts, selectiveFilter, 5),
      runs: N,
      closeMs: 5000,
      targets: { ratio: 0.5, rssMiB: 512, loadSeconds: 10 },
    };
  }),
];

function inChild(task: ChildTask): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const p = fork(child, [], {
      execArgv: [
        // The evaluator as deployed (its bin's shebang).
        ...(task.mode === "evaluator" ? EVALUATOR_NODE_FLAGS : []),
        // BENCH_NODE_FLAGS="--trace-gc …": more flags for the evaluator process (after the deployed ones).
        ...(task.mode === "evaluator"
          ? (process.env["BENCH_NODE_FLAGS"]?.split(" ").filter((f) => f !== "") ?? [])
          : []),
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
    const tail = s.closeMs === undefined ? 0 : tailOf(s.runs);
    if (s.closeMs !== undefined) await produceClosingTail(producer, topic("runs"), PARTITIONS, tail, s.closeMs);
    const task = (mode: ChildTask["mode"], round: number): ChildTask => ({
      mode,
      brokers,
      prefix,
      runsTopic: topic("runs"),
      rulesTopic: topic("rules"),
      windowsTopic: topic("windows"),
      group: `${prefix}-${mode}-${i}-${round}`,
      runs: s.runs + tail,
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
        `    CPU µs/run: raw ${r.cpuPerRun!.toFixed(1)}, evaluator ${e.cpuPerRun!.toFixed(1)}; runs matched ${e.matched}, parts published ${e.parts} (${(e.parts! / Math.max(1, e.matched!)).toFixed(2)} per matched run)`,
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
    `${N} runs (scenario 1: at most 20,000) and, where windows are 5 s, a closing tail of ${tailOf(N)} read and counted alike; ${PARTITIONS} partitions, ${ROUNDS} round(s); raw and the evaluator each in a process of their own.`,
  );
  say(
    "Peak RSS: the evaluator process' maxRSS; rule book load: from its start until it holds every rule (wall, and its CPU time).",
  );
  say("load avg: the machine's 1-minute load average when the scenario ended (2 cores; other work shares them).");
  say(`rerun: BENCH_RUNS=${N} BENCH_ROUNDS=${ROUNDS} npm run bench:evaluator-scale`);
} finally {
  await stack.stop();
}
