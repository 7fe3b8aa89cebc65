// Evaluator throughput: runs/s through one evaluator process with 1, 100 and 1,000 rules over ~1.5 KB
// runs already in the topic, next to merely consuming and JSON.parse-ing the same topic in the same run.
//
//   npm run bench:evaluator                 (BENCH_RUNS=100000 by default; BENCH_SCENARIOS=1,3 runs a subset;
//                                           BENCH_ROUNDS=3 passes of raw then every scenario, medians reported)
//   BENCH_CPU_PROFILE=dir npm run bench:evaluator   also writes dir/<scenario>.cpuprofile of the last round
//   BENCH_HEAP_PROFILE=dir npm run bench:evaluator  also writes dir/<scenario>.heapprofile (sampled allocations) of it
//                                           (raw consume too; open in Chrome DevTools or speedscope)
//
// Trace-aware rules over realistic traces, and a restart's catch-up: traces.ts (npm run bench:evaluator-traces).
//
// Starts (or reuses) the local Kafka like the tests do, and stops what it started.
import { randomUUID } from "node:crypto";
import { createKafka, ensureTopics, groupConsumer, topicNames, topicSpecs, waitForTopics } from "@runhooks/kafka";
import { readInfraEnv, startStack } from "@runhooks/infra";
import { RUNS_PARTITIONS_CONCURRENTLY, runsConsumerConfig, startEvaluator } from "@runhooks/evaluator";
import { deleteBenchTopics } from "../support/bench-topics.js";
import { allocationProfile, cpuProfile } from "../support/cpu-profile.js";
import { median } from "../support/stats.js";
import { NO_TICKS_MS, produceClosingTail, tailOf } from "./closing-tail.js";
import { benchRules, run as benchRun } from "./scale-data.js";

const N = Number(process.env["BENCH_RUNS"] ?? 100_000);
/** Passes over the same topic: raw, then each scenario, this many times (figures are medians). */
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 3);
const PARTITIONS = 6;
/** The evaluator's default; the raw consumer gets the same. */
const SESSION_TIMEOUT_MS = 10_000;
const TENANTS = Array.from({ length: 10 }, () => randomUUID());
/** Every rule's window, and how long before a window boundary the runs start to be produced. */
const WINDOW_MS = 5000;
const LEAD_MS = 1000;
/** The measured runs and the closing tail (closing-tail.ts) after them, read and timed alike. */
const READ = N + tailOf(N);
const say = (line: string) => console.log(line);

/** Broad rules, a stress case: together they put a third of all runs into windows. */
function broadFilter(i: number): unknown {
  switch (i % 5) {
    case 0:
      return { "==": [{ var: "status" }, "success"] };
    case 1:
      return { and: [{ "==": [{ var: "run_type" }, "chain"] }, { ">": [{ var: "latency" }, 5 + (i % 3)] }] };
    case 2:
      return { ">": [{ var: "total_cost" }, 0.0035 + (i % 10) * 0.00001] };
    case 3:
      return { in: [`tag-${i % 20}`, { var: "tags" }] };
    default:
      return { "==": [{ var: "metadata.env" }, "prod"] };
  }
}

/** This process's CPU time (user + system): unlike rates, barely moved by other work on the machine. */
const cpuMicros = (u: NodeJS.CpuUsage) => u.user + u.system;

function peakRss(): { stop: () => number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  return { stop: () => (clearInterval(timer), Math.max(peak, process.memoryUsage().rss)) };
}

const env = readInfraEnv();
const stack = await startStack(env, (l) => say(`[stack] ${l}`));
try {
  const brokers = stack.brokers;
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const names = topicNames(prefix);
  const kafka = createKafka({ brokers, clientId: "bench", logLevel: "error", logger: () => undefined });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topicSpecs({ prefix, runsPartitions: PARTITIONS }));

  const scenarios = [
    { name: "1 rule", rules: benchRules(1, TENANTS.slice(0, 1), WINDOW_MS / 1000) },
    { name: "100 rules (10 tenants)", rules: benchRules(100, TENANTS, WINDOW_MS / 1000) },
    { name: "100 rules (1 tenant)", rules: benchRules(100, TENANTS.slice(0, 1), WINDOW_MS / 1000) },
    { name: "1000 rules (10 tenants)", rules: benchRules(1000, TENANTS, WINDOW_MS / 1000) },
    { name: "100 broad rules (stress)", rules: benchRules(100, TENANTS, WINDOW_MS / 1000, broadFilter) },
  ];
  // Rules first: a run is judged by the versions in force when it was appended.
  const producer = kafka.producer();
  await producer.connect();
  for (const [i, s] of scenarios.entries()) {
    const topics = [`${prefix}.rules.${i}`, `${prefix}.windows.${i}`];
    await admin.createTopics({
      waitForLeaders: false,
      topics: [
        {
          topic: topics[0]!,
          numPartitions: 1,
          configEntries: [{ name: "message.timestamp.type", value: "LogAppendTime" }],
        },
        { topic: topics[1]!, numPartitions: PARTITIONS },
      ],
    });
    await waitForTopics(admin, topics);
    await producer.send({
      topic: topics[0]!,
      acks: -1,
      messages: s.rules.map((r) => ({ key: r.rule_id, value: JSON.stringify(r) })),
    });
  }
  await new Promise((r) => setTimeout(r, 50));

  say(
    `producing ${N} runs (~${(benchRun(0, TENANTS).length / 1024).toFixed(1)} KB each) to ${names.runs} (${PARTITIONS} partitions)…`,
  );
  // The rules' windows are 5 s long and close when a partition's stream time passes their end. Started
  // 1 s before a window boundary, the runs of that first second fill windows that close while the
  // evaluator reads the rest, so every round measures their parts being published; started anywhere,
  // a round whose runs all fall in one window would publish nothing until after its last run.
  await new Promise((r) => setTimeout(r, (WINDOW_MS - ((Date.now() + LEAD_MS) % WINDOW_MS)) % WINDOW_MS));
  const t0 = Date.now();
  for (let i = 0; i < N; i += 1000) {
    const messages = Array.from({ length: Math.min(1000, N - i) }, (_, k) => {
      const value = benchRun(i + k, TENANTS);
      return { key: (JSON.parse(value) as { trace_id: string }).trace_id, value };
    });
    await producer.send({ topic: names.runs, acks: -1, messages });
  }
  say(`  produced in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await produceClosingTail(producer, names.runs, PARTITIONS, tailOf(N), WINDOW_MS);

  interface Measured {
    readonly rate: number;
    readonly cpuPerRun: number;
    readonly rssMiB: number;
    readonly matched?: number;
    readonly windows?: number;
  }

  /** Baseline: consume and JSON.parse every message, nothing else. */
  async function measureRaw(round: number): Promise<Measured> {
    const rss = peakRss();
    const profiler = round === ROUNDS - 1 ? await cpuProfile() : undefined;
    const allocations = round === ROUNDS - 1 ? await allocationProfile() : undefined;
    let start = 0;
    let cpu = process.cpuUsage();
    let parsed = 0;
    // The evaluator's own consumer settings (fetch sizes, waits, concurrency, group timings): like with like.
    const raw = groupConsumer(kafka, runsConsumerConfig(`${prefix}-raw-${round}`, SESSION_TIMEOUT_MS));
    await raw.connect();
    await raw.subscribe({ topic: names.runs, fromBeginning: true });
    await new Promise<void>((resolve) => {
      void raw.run({
        partitionsConsumedConcurrently: RUNS_PARTITIONS_CONCURRENTLY,
        eachBatch: ({ batch }) => {
          if (start === 0) {
            start = Date.now();
            cpu = process.cpuUsage();
          }
          for (const m of batch.messages) {
            JSON.parse(m.value!.toString());
            if (++parsed === READ) resolve();
          }
          return Promise.resolve();
        },
      });
    });
    const seconds = (Date.now() - start) / 1000;
    const cpuPerRun = cpuMicros(process.cpuUsage(cpu)) / READ;
    await raw.disconnect();
    await profiler?.stop("raw consume");
    await allocations?.stop("raw consume");
    return { rate: READ / seconds, cpuPerRun, rssMiB: rss.stop() / 2 ** 20 };
  }

  async function measureScenario(i: number, s: (typeof scenarios)[number], round: number): Promise<Measured> {
    const rss = peakRss();
    const profiler = round === ROUNDS - 1 ? await cpuProfile() : undefined;
    const allocations = round === ROUNDS - 1 ? await allocationProfile() : undefined;
    let fatal: Error | undefined;
    const evaluator = await startEvaluator({
      onFatal: (error) => (fatal = error),
      brokers,
      topicPrefix: prefix,
      groupId: `${prefix}-eval-${i}-${round}`,
      instanceId: `bench-${i}-${round}`,
      maxRunBytes: 512 * 1024,
      tickIntervalMs: NO_TICKS_MS,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      topicOverrides: { rules: `${prefix}.rules.${i}`, windows: `${prefix}.windows.${i}` },
      log: (level, message, fields) => {
        if (level === "error") console.error(`  [evaluator] ${message} ${JSON.stringify(fields ?? {})}`);
      },
    });
    while (evaluator.counters.runsRead === 0) {
      if (fatal !== undefined) throw new Error(`the evaluator stopped: ${fatal.message}`);
      await new Promise((r) => setTimeout(r, 1));
    }
    const start = Date.now();
    const cpu = process.cpuUsage();
    let lastReport = Date.now();
    while (evaluator.counters.runsRead < READ) {
      if (fatal !== undefined) throw new Error(`the evaluator stopped: ${fatal.message}`);
      await new Promise((r) => setTimeout(r, 5));
      if (Date.now() - lastReport > 5000) {
        lastReport = Date.now();
        say(`  ${s.name}: ${evaluator.counters.runsRead}/${READ} runs read…`);
      }
    }
    const seconds = (Date.now() - start) / 1000;
    const cpuPerRun = cpuMicros(process.cpuUsage(cpu)) / READ;
    const c = evaluator.counters;
    await evaluator.stop();
    await profiler?.stop(s.name);
    await allocations?.stop(s.name);
    return {
      rate: READ / seconds,
      cpuPerRun,
      rssMiB: rss.stop() / 2 ** 20,
      matched: c.runsMatched,
      windows: c.windowsEmitted,
    };
  }

  // Rounds: raw, then each scenario, again and again. The figures are medians over the rounds, and each
  // ratio is taken within its round — the machine's speed drifts between minutes, not within one pass.
  const only = process.env["BENCH_SCENARIOS"]?.split(",").map(Number);
  const chosen = [...scenarios.entries()].filter(([i]) => !only || only.includes(i));
  const raws: Measured[] = [];
  const results = new Map<number, Measured[]>(chosen.map(([i]) => [i, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const r = await measureRaw(round);
    raws.push(r);
    say(`  round ${round + 1}/${ROUNDS}: raw consume ${r.rate.toFixed(0)} runs/s`);
    for (const [i, s] of chosen) {
      const m = await measureScenario(i, s, round);
      results.get(i)!.push(m);
      say(
        `  round ${round + 1}/${ROUNDS}: ${s.name} ${m.rate.toFixed(0)} runs/s (${(m.rate / r.rate).toFixed(2)} of raw)`,
      );
    }
  }
  const spread = (values: number[]) =>
    values.length > 1 ? ` (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})` : "";
  const rows: string[][] = [
    [
      "raw consume + JSON.parse",
      median(raws.map((r) => r.rate)).toFixed(0),
      "1.00",
      median(raws.map((r) => r.cpuPerRun)).toFixed(1),
      "1.00",
      "-",
      "-",
      Math.max(...raws.map((r) => r.rssMiB)).toFixed(0),
    ],
  ];
  for (const [i, s] of chosen) {
    const ms = results.get(i)!;
    const ratios = ms.map((m, round) => m.rate / raws[round]!.rate);
    const cpuRatios = ms.map((m, round) => raws[round]!.cpuPerRun / m.cpuPerRun);
    const matched = ms[0]!.matched ?? 0;
    rows.push([
      `evaluator, ${s.name}`,
      median(ms.map((m) => m.rate)).toFixed(0),
      median(ratios).toFixed(2) + spread(ratios),
      median(ms.map((m) => m.cpuPerRun)).toFixed(1),
      median(cpuRatios).toFixed(2) + spread(cpuRatios),
      `${matched} (${((100 * matched) / N).toFixed(1)}%)`,
      String(median(ms.map((m) => m.windows ?? 0))),
      Math.max(...ms.map((m) => m.rssMiB)).toFixed(0),
    ]);
  }
  await producer.disconnect();
  await admin.disconnect();
  await deleteBenchTopics(brokers, prefix);

  const header = [
    "scenario",
    "runs/s",
    "ratio to raw",
    "CPU µs/run",
    "CPU ratio",
    "runs matched",
    "windows",
    "peak RSS MiB",
  ];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join("  ");
  say("");
  say(line(header));
  for (const r of rows) say(line(r));
  say("");
  say(
    `${N} runs and a closing tail of ${tailOf(N)} that every round reads and counts, ${PARTITIONS} partitions, one process, ${ROUNDS} rounds; rates from the first run read to the last (group join excluded).`,
  );
  say("Each figure is the median over the rounds; a ratio is taken within its round (range in parentheses).");
  say(
    "CPU µs/run: this process's CPU time over that span (the broker's is not counted); CPU ratio = raw's CPU per run / the scenario's.",
  );
  say(`rerun: BENCH_RUNS=${N} BENCH_ROUNDS=${ROUNDS} npm run bench:evaluator`);
} finally {
  await stack.stop();
}
