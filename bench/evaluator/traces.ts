// Trace-aware rules in the evaluator, with realistic traces: a root and 5–20 children each, children
// ending over seconds and the root last, many traces in progress at once.
//
//   npm run bench:evaluator-traces     (BENCH_RUNS=200000 runs for the throughput part, BENCH_ROUNDS=3;
//                                      BENCH_PARTS=throughput,restart runs a subset)
//
// 1. throughput: runs/s through one evaluator with 100 rules over 10 tenants, 10 of them trace-aware
//    (a trace filter or a tree filter each), against consuming and JSON.parse-ing the same topic (raw),
//    and the process' peak RSS while 10,000 traces are in progress at once (begun, root not yet read).
// 2. restart (BENCH_RESTART=snapshot, the default): a log of H + W + 20 s of runs at 5,000 runs/s (H the
//    default horizon, W the longest window; enough for the open traces and their remembered roots to
//    reach their steady state) folded by an evaluator that writes its trace snapshots (one each 5 s per
//    partition) and stops at S, its last commit naming its last snapshot; then D more seconds of log
//    (the time it was away: BENCH_DOWN_S, 11 s, the group's kill stall), then a new evaluator started
//    while runs keep coming at 5,000/s: the time until it is caught up (less than 1 s of runs behind;
//    target < 60 s), and the snapshots' size and cost per checkpoint.
//    BENCH_RESTART=prefix measures the fallback without a snapshot: a log of 2H + W + D, a checkpoint
//    committed D before its end naming none, the trace prefix refolded from S − W − 2H.
//    The log is produced with CreateTime timestamps spaced as a 5,000 runs/s stream (the evaluator reads
//    message timestamps either way). On a loaded machine producing 3M runs takes many minutes:
//    BENCH_HORIZON_S=40 measures with a shorter horizon and projects the default's catch-up from the
//    rates it measured (the refold's extra 2 × (300 - H) s of log at its prefix rate, and the runs that
//    arrive meanwhile at the evaluator's rate past the refold).
//
// Starts (or reuses) the local Kafka like the tests do, and stops what it started.
import { randomUUID } from "node:crypto";
import { createKafka, ensureTopics, groupConsumer, topicNames, topicSpecs, waitForTopics } from "@runhooks/kafka";
import { readInfraEnv, startStack } from "@runhooks/infra";
import { DEFAULT_TRACE_HORIZON_SECONDS, decodeCheckpoint, encodeCheckpoint } from "@runhooks/rules";
import { RUNS_PARTITIONS_CONCURRENTLY, runsConsumerConfig, startEvaluator } from "@runhooks/evaluator";
import type { RuleVersion } from "@runhooks/contracts";
import type { Admin, Kafka, Producer } from "kafkajs";
import { loadavg } from "node:os";
import { deleteBenchTopics } from "../support/bench-topics.js";
import { median } from "../support/stats.js";
import { traceStream } from "./trace-runs.js";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const N = Number(process.env["BENCH_RUNS"] ?? 200_000);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 3);
const PARTS = (process.env["BENCH_PARTS"] ?? "throughput,restart").split(",");
const PARTITIONS = 6;
const SESSION_TIMEOUT_MS = 10_000;
const OPEN_TRACES = 10_000;
const RATE = 5000;
const WINDOW_S = 5;
const DOWN_S = Number(process.env["BENCH_DOWN_S"] ?? 11);
/** The horizon of the restart part; a shorter one than the default also prints the default's projection. */
const HORIZON_S = Number(process.env["BENCH_HORIZON_S"] ?? DEFAULT_TRACE_HORIZON_SECONDS);
const TARGET_S = 60;
const RESTART = process.env["BENCH_RESTART"] ?? "snapshot";
/** Log before S beyond H + W in snapshot mode: traces last ~10 s, so their state is steady after it. */
const WARM_S = 20;
const TENANTS = Array.from({ length: 10 }, () => randomUUID());
const say = (line: string) => console.log(line);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

/** 90 alerting-style rules and 10 trace-aware ones (one per tenant: vip LLM errors, or runs of traces with an empty retrieval). */
function rules(): RuleVersion[] {
  const json = (filter: unknown) => filter as RuleVersion["filter"];
  return Array.from({ length: 100 }, (_, i) => {
    const tenant = TENANTS[i % TENANTS.length]!;
    const base = {
      schema_version: 1 as const,
      kind: "rule" as const,
      rule_id: randomUUID(),
      version: 1,
      tenant_id: tenant,
      session_id: null,
      enabled: true,
      sampling_rate: 1,
      window: { seconds: WINDOW_S, max_runs: 100 },
    };
    if (i < 10 && i % 2 === 0)
      return {
        ...base,
        filter: json({ and: [{ "==": [{ var: "run_type" }, "llm"] }, { "==": [{ var: "status" }, "error"] }] }),
        trace_filter: json({ in: ["vip", { var: "tags" }] }),
      };
    if (i < 10)
      return {
        ...base,
        filter: json({ "==": [{ var: "run_type" }, "chain"] }),
        tree_filter: json({
          and: [{ "==": [{ var: "run_type" }, "retriever"] }, { "!": [{ var: "outputs.documents.0" }] }],
        }),
      };
    const filters = [
      { and: [{ "==": [{ var: "run_type" }, "tool"] }, { "==": [{ var: "status" }, "error"] }] },
      { ">": [{ var: "total_cost" }, 0.00398 - (i % 10) * 0.000001] },
      { and: [{ var: "has_error" }, { in: [`tag-${i % 20}`, { var: "tags" }] }] },
      { and: [{ "==": [{ var: "metadata.env" }, "prod"] }, { "==": [{ var: "metadata.customer" }, `c-${i % 50}`] }] },
    ];
    return { ...base, filter: json(filters[i % filters.length]) };
  });
}

const cpuMicros = (u: NodeJS.CpuUsage) => u.user + u.system;

function peakRss(): { stop: () => number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  return { stop: () => (clearInterval(timer), Math.max(peak, process.memoryUsage().rss)) };
}

async function createTopic(admin: Admin, topic: string, partitions: number, createTime: boolean): Promise<void> {
  await admin.createTopics({
    waitForLeaders: false,
    topics: [
      {
        topic,
        numPartitions: partitions,
        configEntries: [{ name: "message.timestamp.type", value: createTime ? "CreateTime" : "LogAppendTime" }],
      },
    ],
  });
  await waitForTopics(admin, [topic]);
}

async function produce(
  producer: Producer,
  topic: string,
  count: number,
  next: () => { key: string; value: string },
  timestampOf?: (i: number) => number,
): Promise<void> {
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < count; i += 1000) {
    const messages = Array.from({ length: Math.min(1000, count - i) }, (_, k) => {
      const m = next();
      return timestampOf ? { ...m, timestamp: String(timestampOf(i + k)) } : m;
    });
    inFlight.push(producer.send({ topic, acks: -1, messages }));
    if (inFlight.length >= 4) await inFlight.shift();
  }
  await Promise.all(inFlight);
}

const env = readInfraEnv();
const stack = await startStack(env, (l) => say(`[stack] ${l}`));
const prefix = `bench-${randomUUID().slice(0, 8)}`;
try {
  const brokers = stack.brokers;
  const kafka = createKafka({ brokers, clientId: "bench", logLevel: "error", logger: () => undefined });
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer();
  await producer.connect();
  const ruleSet = rules();
  await ensureTopics(admin, topicSpecs({ prefix, runsPartitions: PARTITIONS }));
  say(`load (uptime) at start: ${load()}`);
  if (PARTS.includes("throughput")) await throughput(kafka, producer, brokers, ruleSet);
  if (PARTS.includes("restart") && RESTART === "snapshot") await restartFromSnapshot(admin, producer, brokers, ruleSet);
  else if (PARTS.includes("restart")) await restart(kafka, admin, producer, brokers, ruleSet);
  await producer.disconnect();
  await admin.disconnect();
} finally {
  await deleteBenchTopics(stack.brokers, prefix);
  await stack.stop();
}

/**
 * Runs arriving at RATE from a process of its own (on the evaluator's event loop they would fall behind
 * it), started once it produced its first; `stop` ends it and answers how many it produced.
 */
async function startLiveProducer(
  brokers: string[],
  runs: string,
): Promise<{ produced(): number; stop(): Promise<number> }> {
  let live = 0;
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "--conditions=source", fileURLToPath(new URL("./live-producer.ts", import.meta.url))],
    {
      env: {
        ...process.env,
        BENCH_BROKERS: brokers.join(","),
        BENCH_TOPIC: runs,
        BENCH_RATE: String(RATE),
        BENCH_TENANTS: TENANTS.join(","),
      },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  await new Promise<void>((resolve) =>
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      live = Number(chunk.trim().split("\n").at(-1));
      resolve();
    }),
  );
  return {
    produced: () => live,
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      return live;
    },
  };
}

async function throughput(kafka: Kafka, producer: Producer, brokers: string[], ruleSet: RuleVersion[]) {
  const names = topicNames(prefix);
  await producer.send({
    topic: names.rules,
    acks: -1,
    messages: ruleSet.map((r) => ({ key: r.rule_id, value: JSON.stringify(r) })),
  });
  await new Promise((r) => setTimeout(r, 50));
  const next = traceStream(OPEN_TRACES, 1, TENANTS);
  say(`producing ${N} runs of traces, ${OPEN_TRACES} in progress at once, to ${names.runs}…`);
  const t0 = Date.now();
  await produce(producer, names.runs, N, next);
  say(`  produced in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const raws: { rate: number; cpu: number; rss: number }[] = [];
  const evals: { rate: number; cpu: number; rss: number; matched: number; held: number; windows: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Raw: consume and JSON.parse every message, with the evaluator's consumer settings.
    {
      const rss = peakRss();
      let start = 0;
      let cpu = process.cpuUsage();
      let parsed = 0;
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
              if (++parsed === N) resolve();
            }
            return Promise.resolve();
          },
        });
      });
      const seconds = (Date.now() - start) / 1000;
      raws.push({ rate: N / seconds, cpu: cpuMicros(process.cpuUsage(cpu)) / N, rss: rss.stop() / 2 ** 20 });
      await raw.disconnect();
    }
    {
      const rss = peakRss();
      let fatal: Error | undefined;
      const evaluator = await startEvaluator({
        onFatal: (error) => (fatal = error),
        brokers,
        topicPrefix: prefix,
        groupId: `${prefix}-eval-${round}`,
        instanceId: `bench-${round}`,
        maxRunBytes: 512 * 1024,
        tickIntervalMs: 200,
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
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
      while (evaluator.counters.runsRead < N) {
        if (fatal !== undefined) throw new Error(`the evaluator stopped: ${fatal.message}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      const seconds = (Date.now() - start) / 1000;
      const c = evaluator.counters;
      evals.push({
        rate: N / seconds,
        cpu: cpuMicros(process.cpuUsage(cpu)) / N,
        rss: 0,
        matched: c.runsMatched,
        held: c.runsHeld,
        windows: c.windowsEmitted,
      });
      await evaluator.stop();
      evals.at(-1)!.rss = rss.stop() / 2 ** 20;
    }
    const r = raws.at(-1)!;
    const e = evals.at(-1)!;
    say(
      `  round ${round + 1}/${ROUNDS}: raw ${r.rate.toFixed(0)} runs/s; evaluator ${e.rate.toFixed(0)} runs/s ` +
        `(${(e.rate / r.rate).toFixed(2)} of raw), ${e.held} runs held for their trace, peak RSS ${e.rss.toFixed(0)} MiB; load ${load()}`,
    );
  }
  const ratios = evals.map((e, i) => e.rate / raws[i]!.rate);
  say("");
  say(
    `trace-aware (100 rules over 10 tenants, 10 trace-aware; ${N} runs, ${OPEN_TRACES} traces in progress at once): ` +
      `raw ${median(raws.map((r) => r.rate)).toFixed(0)} runs/s, evaluator ${median(evals.map((e) => e.rate)).toFixed(0)} runs/s, ` +
      `ratio to raw ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}), ` +
      `CPU µs/run ${median(evals.map((e) => e.cpu)).toFixed(1)} (raw ${median(raws.map((r) => r.cpu)).toFixed(1)}), ` +
      `runs matched ${evals[0]!.matched}, held ${evals[0]!.held}, peak RSS ${Math.max(...evals.map((e) => e.rss)).toFixed(0)} MiB ` +
      `(raw ${Math.max(...raws.map((r) => r.rss)).toFixed(0)}); load ${load()}`,
  );
  say(`rerun: BENCH_RUNS=${N} BENCH_ROUNDS=${ROUNDS} BENCH_PARTS=throughput npm run bench:evaluator-traces`);
}

async function restart(kafka: Kafka, admin: Admin, producer: Producer, brokers: string[], ruleSet: RuleVersion[]) {
  const runs = `${prefix}.restart.runs`;
  const rulesTopic = `${prefix}.restart.rules`;
  const windows = `${prefix}.restart.windows`;
  await createTopic(admin, runs, PARTITIONS, true);
  await createTopic(admin, rulesTopic, 1, true);
  await admin.createTopics({ waitForLeaders: false, topics: [{ topic: windows, numPartitions: PARTITIONS }] });
  await waitForTopics(admin, [windows]);
  const horizonS = HORIZON_S;
  const logS = 2 * horizonS + WINDOW_S + DOWN_S;
  const count = logS * RATE;
  const end = Date.now();
  const t0 = end - logS * 1000;
  // Rules in force before the log's first run.
  await producer.send({
    topic: rulesTopic,
    acks: -1,
    messages: ruleSet.map((r) => ({ key: r.rule_id, value: JSON.stringify(r), timestamp: String(t0 - 10_000) })),
  });
  // The pool sized so that a trace lasts ~10 s at 5,000 runs/s.
  const next = traceStream(4000, 2, TENANTS);
  say(`producing ${count} runs (${logS} s at ${RATE} runs/s: 2 × ${horizonS} s + ${WINDOW_S} s + ${DOWN_S} s)…`);
  const p0 = Date.now();
  await produce(producer, runs, count, next, (i) => t0 + Math.floor((i * 1000) / RATE));
  say(`  produced in ${((Date.now() - p0) / 1000).toFixed(1)} s; load ${load()}`);

  // The same log consumed and JSON.parse-d alone, in the same minutes: what the refold's rate compares with.
  let rawStart = 0;
  let rawParsed = 0;
  const raw = groupConsumer(kafka, runsConsumerConfig(`${prefix}-restart-raw`, SESSION_TIMEOUT_MS));
  await raw.connect();
  await raw.subscribe({ topic: runs, fromBeginning: true });
  await new Promise<void>((resolve) => {
    void raw.run({
      partitionsConsumedConcurrently: RUNS_PARTITIONS_CONCURRENTLY,
      eachBatch: ({ batch }) => {
        if (rawStart === 0) rawStart = Date.now();
        for (const m of batch.messages) {
          JSON.parse(m.value!.toString());
          if (++rawParsed === count) resolve();
        }
        return Promise.resolve();
      },
    });
  });
  const rawRate = count / ((Date.now() - rawStart) / 1000);
  await raw.disconnect();
  say(`  raw consume of the log: ${(rawRate / 1000).toFixed(1)}k runs/s; load ${load()}`);

  // The checkpoint an evaluator commits when it stops at S (D before the log's end).
  const s = end - DOWN_S * 1000;
  const groupId = `${prefix}-restart`;
  const at = await admin.fetchTopicOffsetsByTimestamp(runs, s);
  const ends = await admin.fetchTopicOffsets(runs);
  const backlog = ends.reduce(
    (n, p) => n + Number(p.high) - Number(at.find((a) => a.partition === p.partition)!.offset),
    0,
  );
  const committer = kafka.consumer({ groupId, sessionTimeout: SESSION_TIMEOUT_MS });
  await committer.connect();
  await committer.subscribe({ topic: runs, fromBeginning: true });
  const joined = new Promise<void>((resolve) => committer.on(committer.events.GROUP_JOIN, () => resolve()));
  await committer.run({ autoCommit: false, eachBatch: () => new Promise(() => undefined) });
  await joined;
  await committer.commitOffsets(
    at.map((p) => ({
      topic: runs,
      partition: p.partition,
      offset: p.offset,
      metadata: encodeCheckpoint({ streamTime: s - 1, processedUpTo: Number(p.offset) }),
    })),
  );
  await committer.disconnect();
  say(`  checkpoint committed at S = end - ${DOWN_S} s; ${backlog} runs after it; load ${load()}`);

  // Runs keep coming at 5,000/s while the evaluator restarts and catches up, from a process of their own
  // (on the evaluator's event loop they would fall behind it).
  const liveProducer = await startLiveProducer(brokers, runs);
  const rss = peakRss();
  let fatal: Error | undefined;
  const started = Date.now();
  const evaluator = await startEvaluator({
    onFatal: (error) => (fatal = error),
    brokers,
    topicPrefix: prefix,
    groupId,
    instanceId: `bench-restart`,
    traceHorizonSeconds: horizonS,
    maxRunBytes: 512 * 1024,
    tickIntervalMs: 200,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    topicOverrides: { runs, rules: rulesTopic, windows },
    log: (level, message, fields) => {
      if (level === "error") console.error(`  [evaluator] ${message} ${JSON.stringify(fields ?? {})}`);
    },
  });
  let refoldedAt: number | undefined;
  let readAtRefold = 0;
  let lastReport = Date.now();
  const limitMs = 20 * 60_000;
  for (;;) {
    if (fatal !== undefined) throw new Error(`the evaluator stopped: ${fatal.message}`);
    const read = evaluator.counters.runsRead;
    if (refoldedAt === undefined && read > 0) {
      refoldedAt = Date.now();
      readAtRefold = read;
    }
    // Caught up: less than one second of runs behind what was produced.
    if (read >= backlog + liveProducer.produced() - RATE) break;
    if (Date.now() - started > limitMs) throw new Error("not caught up within 20 minutes");
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      say(
        `  ${((Date.now() - started) / 1000).toFixed(0)} s: ${read} of ${backlog + liveProducer.produced()} runs after S read; load ${load()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const caughtUp = (Date.now() - started) / 1000;
  const live = await liveProducer.stop();
  await evaluator.stop();
  const refold = ((refoldedAt ?? Date.now()) - started) / 1000;
  const refolded = count - backlog;
  // Past the refold: the backlog left then, plus what came meanwhile, read at this rate.
  const pastRate = (backlog + live - RATE - readAtRefold) / Math.max(0.001, caughtUp - refold);
  const prefixRate = refolded / refold;
  say("");
  say(
    `restart at ${RATE} runs/s, horizon ${horizonS} s, longest window ${WINDOW_S} s, away ${DOWN_S} s: ` +
      `caught up in ${caughtUp.toFixed(1)} s (target < ${TARGET_S} s), of which ${refold.toFixed(1)} s until the first ` +
      `run after the checkpoint (group join and the refold of ${refolded} runs: ${(prefixRate / 1000).toFixed(1)}k runs/s, ` +
      `${(prefixRate / rawRate).toFixed(2)} of raw), ` +
      `then ${(pastRate / 1000).toFixed(1)}k runs/s; ${live} runs produced meanwhile ` +
      `(${(live / caughtUp).toFixed(0)}/s); peak RSS ${(rss.stop() / 2 ** 20).toFixed(0)} MiB; load ${load()}`,
  );
  if (horizonS < DEFAULT_TRACE_HORIZON_SECONDS) {
    const extra = 2 * (DEFAULT_TRACE_HORIZON_SECONDS - horizonS) * RATE;
    const extraS = extra / prefixRate;
    const projected = caughtUp + extraS + (extraS * RATE) / Math.max(1, pastRate - RATE);
    say(
      `projected with the default horizon (${DEFAULT_TRACE_HORIZON_SECONDS} s): ${projected.toFixed(0)} s ` +
        `(+${extra} runs of prefix at ${(prefixRate / 1000).toFixed(1)}k runs/s, and the runs arriving meanwhile at ` +
        `${(pastRate / 1000).toFixed(1)}k runs/s less the ${RATE} arriving)`,
    );
  }
  say(`rerun: BENCH_PARTS=restart BENCH_HORIZON_S=${horizonS} BENCH_DOWN_S=${DOWN_S} npm run bench:evaluator-traces`);
}

/** The restart from a trace snapshot (the header's part 2). */
async function restartFromSnapshot(admin: Admin, producer: Producer, brokers: string[], ruleSet: RuleVersion[]) {
  const runs = `${prefix}.restart.runs`;
  const rulesTopic = `${prefix}.restart.rules`;
  const windows = `${prefix}.restart.windows`;
  await createTopic(admin, runs, PARTITIONS, true);
  await createTopic(admin, rulesTopic, 1, true);
  await admin.createTopics({ waitForLeaders: false, topics: [{ topic: windows, numPartitions: PARTITIONS }] });
  await waitForTopics(admin, [windows]);
  const horizonS = HORIZON_S;
  const beforeS = horizonS + WINDOW_S + WARM_S;
  const before = beforeS * RATE;
  const away = DOWN_S * RATE;
  const end = Date.now();
  const t0 = end - (beforeS + DOWN_S) * 1000;
  const timeOf = (i: number) => t0 + Math.floor((i * 1000) / RATE);
  await producer.send({
    topic: rulesTopic,
    acks: -1,
    messages: ruleSet.map((r) => ({ key: r.rule_id, value: JSON.stringify(r), timestamp: String(t0 - 10_000) })),
  });
  const next = traceStream(4000, 2, TENANTS);
  say(
    `producing ${before} runs up to S (${beforeS} s at ${RATE} runs/s: ${horizonS} s + ${WINDOW_S} s + ${WARM_S} s)…`,
  );
  const p0 = Date.now();
  await produce(producer, runs, before, next, timeOf);
  say(`  produced in ${((Date.now() - p0) / 1000).toFixed(1)} s; load ${load()}`);

  const groupId = `${prefix}-restart`;
  const options = {
    brokers,
    topicPrefix: prefix,
    groupId,
    traceHorizonSeconds: horizonS,
    maxRunBytes: 512 * 1024,
    tickIntervalMs: 200,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    topicOverrides: { runs, rules: rulesTopic, windows },
  };
  // The evaluator that folds the log up to S, then stops: its last commit names its last snapshot.
  let fatal: Error | undefined;
  const first = await startEvaluator({
    ...options,
    instanceId: "bench-before",
    onFatal: (error) => (fatal = error),
    log: (level, message, fields) => {
      if (level === "error") console.error(`  [evaluator] ${message} ${JSON.stringify(fields ?? {})}`);
    },
  });
  const f0 = Date.now();
  const fcpu = process.cpuUsage();
  while (first.counters.runsRead < before) {
    if (fatal !== undefined) throw new Error(`the evaluator stopped: ${fatal.message}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const foldS = (Date.now() - f0) / 1000;
  const foldCpu = cpuMicros(process.cpuUsage(fcpu));
  await first.stop();
  const fc = first.counters;
  const perSnapshot = fc.traceSnapshotBytes / Math.max(1, fc.traceSnapshotsWritten);
  const written = Math.max(1, fc.traceSnapshotsWritten);
  const takeMs = fc.traceSnapshotTakeMs / written;
  const writeMs = fc.traceSnapshotWriteMs / written;
  say(
    `  folded up to S at ${(before / foldS / 1000).toFixed(1)}k runs/s (${(foldCpu / before).toFixed(1)} µs CPU/run, ` +
      `group join included); ${fc.traceSnapshotsWritten} trace snapshots written, ` +
      `${(perSnapshot / 1024).toFixed(0)} KiB of JSON each on average, ${takeMs.toFixed(1)} ms each to take and encode ` +
      `on the fold's thread (${((fc.traceSnapshotTakeMs * 1000 * 100) / Math.max(1, foldCpu)).toFixed(1)}% of the fold's CPU), ` +
      `${writeMs.toFixed(1)} ms each waiting for Kafka in its flush; load ${load()}`,
  );

  say(`producing the ${away} runs of the ${DOWN_S} s the evaluator was away…`);
  let i = before;
  await produce(producer, runs, away, next, () => timeOf(i++));
  const committed = (await admin.fetchOffsets({ groupId, topics: [runs] })).flatMap((t) => t.partitions);
  const ends = await admin.fetchTopicOffsets(runs);
  let backlog = 0;
  let named = 0;
  for (const p of committed) {
    const c = decodeCheckpoint(p.metadata);
    if (c?.traces !== undefined) named++;
    backlog += Number(ends.find((e) => e.partition === p.partition)!.high) - (c?.processedUpTo ?? Number(p.offset));
  }
  say(
    `  ${backlog} runs after the checkpoints, ${named} of ${committed.length} naming a trace snapshot; load ${load()}`,
  );

  const liveProducer = await startLiveProducer(brokers, runs);
  const rss = peakRss();
  const restored = { traces: 0, partitions: 0 };
  const started = Date.now();
  const cpu = process.cpuUsage();
  const evaluator = await startEvaluator({
    ...options,
    instanceId: "bench-restart",
    onFatal: (error) => (fatal = error),
    log: (level, message, fields) => {
      const snapshot = (fields as { traceSnapshot?: { traces: number } | null } | undefined)?.traceSnapshot;
      if (message === "partition assigned; refolding from checkpoint" && snapshot) {
        restored.partitions++;
        restored.traces += snapshot.traces;
      }
      if (level === "error" || level === "warn")
        console.error(`  [evaluator] ${message} ${JSON.stringify(fields ?? {})}`);
    },
  });
  let firstAt: number | undefined;
  let lastReport = Date.now();
  for (;;) {
    if (fatal !== undefined) throw new Error(`the evaluator stopped: ${fatal.message}`);
    const read = evaluator.counters.runsRead;
    if (firstAt === undefined && read > 0) firstAt = Date.now();
    if (read >= backlog + liveProducer.produced() - RATE) break;
    if (Date.now() - started > 20 * 60_000) throw new Error("not caught up within 20 minutes");
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      say(
        `  ${((Date.now() - started) / 1000).toFixed(0)} s: ${read} of ${backlog + liveProducer.produced()} runs after S read; load ${load()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const caughtUp = (Date.now() - started) / 1000;
  const readBy = evaluator.counters.runsRead;
  const cpuPerRun = cpuMicros(process.cpuUsage(cpu)) / Math.max(1, readBy);
  const live = await liveProducer.stop();
  await evaluator.stop();
  const refold = ((firstAt ?? Date.now()) - started) / 1000;
  say("");
  say(
    `restart from a trace snapshot at ${RATE} runs/s, horizon ${horizonS} s, longest window ${WINDOW_S} s, away ${DOWN_S} s: ` +
      `caught up in ${caughtUp.toFixed(1)} s (target < ${TARGET_S} s: ${caughtUp < TARGET_S ? "met" : "NOT met"}), ` +
      `of which ${refold.toFixed(1)} s until the first run after the checkpoint (group join, snapshot read, window refold); ` +
      `${restored.partitions} partitions restored ${restored.traces} open traces; ${live} runs produced meanwhile ` +
      `(${(live / caughtUp).toFixed(0)}/s); ${readBy} runs read past the checkpoints at ${cpuPerRun.toFixed(1)} µs CPU/run ` +
      `(the process's, refold included); peak RSS ${(rss.stop() / 2 ** 20).toFixed(0)} MiB; load ${load()}`,
  );
  say(
    `trace snapshots: ${(perSnapshot / 1024).toFixed(0)} KiB of JSON per partition per checkpoint on average ` +
      `(${fc.traceSnapshotsWritten} written while folding ${before} runs, at most one each 5 s per partition), ` +
      `${takeMs.toFixed(1)} ms each to take and encode, ${writeMs.toFixed(1)} ms to write`,
  );
  say(`rerun: BENCH_PARTS=restart BENCH_HORIZON_S=${horizonS} BENCH_DOWN_S=${DOWN_S} npm run bench:evaluator-traces`);
}
