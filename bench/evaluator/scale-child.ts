// The process `scale.ts` measures: either a raw consumer (consume + JSON.parse) or one evaluator, alone
// in this process, so its memory is the evaluator's own (process.resourceUsage().maxRSS). Told what to
// do by its first message; answers with one message and exits.
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { createKafka, groupConsumer } from "@runhooks/kafka";
import { RUNS_PARTITIONS_CONCURRENTLY, runsConsumerConfig, startEvaluator } from "@runhooks/evaluator";
import { cpuProfile, type Profile } from "../support/cpu-profile.js";
import { NO_TICKS_MS } from "./closing-tail.js";

export interface ChildTask {
  readonly mode: "raw" | "evaluator";
  readonly brokers: string[];
  readonly prefix: string;
  readonly runsTopic: string;
  readonly rulesTopic: string;
  readonly windowsTopic: string;
  readonly group: string;
  readonly runs: number;
  readonly rules: number;
}

export interface ChildResult {
  readonly rate: number;
  /** Seconds from the evaluator's start until its rule book held every rule (evaluator mode). */
  readonly loadSeconds?: number;
  /** This process' CPU seconds over that span: what the load costs, whatever else the machine runs. */
  readonly loadCpuSeconds?: number;
  /** Peak resident set of this process, MiB. */
  readonly peakRssMiB: number;
  readonly openWindows?: number;
  readonly matched?: number;
  /** Window parts published by the last run read (evaluator mode). */
  readonly parts?: number;
  /** This process' CPU µs per run over the measured span (user + system). */
  readonly cpuPerRun?: number;
  /** `process.memoryUsage()` at the end (MiB), after a GC when exposed: what holds the memory. */
  readonly memory?: Readonly<Record<string, number>>;
}

const SESSION_TIMEOUT_MS = 10_000;
const peakRssMiB = () => (process.resourceUsage().maxRSS * 1024) / 2 ** 20;

async function gauge(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(name) && !l.startsWith("#"));
  return line === undefined ? 0 : Number(line.trim().split(/\s+/).at(-1));
}

const mib = (n: number) => Math.round(n / 2 ** 20);
let peakSample: { rss: number; m: NodeJS.MemoryUsage; spaces: v8.HeapSpaceInfo[] } | undefined;
/** The process' memory by kind, kept at its highest RSS seen: what the peak is made of. */
function sample(): void {
  const m = process.memoryUsage();
  if (peakSample === undefined || m.rss > peakSample.rss)
    peakSample = { rss: m.rss, m, spaces: v8.getHeapSpaceStatistics() };
}
function breakdown(prefix: string): Record<string, number> {
  const at = prefix === "gc " ? { m: process.memoryUsage(), spaces: v8.getHeapSpaceStatistics() } : peakSample!;
  const out: Record<string, number> = {
    [`${prefix}rss`]: mib(at.m.rss),
    [`${prefix}heapUsed`]: mib(at.m.heapUsed),
    [`${prefix}heapTotal`]: mib(at.m.heapTotal),
    [`${prefix}external`]: mib(at.m.external),
    [`${prefix}arrayBuffers`]: mib(at.m.arrayBuffers),
  };
  for (const sp of at.spaces) out[`${prefix}${sp.space_name}`] = mib(sp.space_size);
  return out;
}
function gcNow(): void {
  v8.setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

async function raw(t: ChildTask): Promise<ChildResult> {
  const kafka = createKafka({ brokers: t.brokers, clientId: "bench-raw", logLevel: "error", logger: () => undefined });
  const consumer = groupConsumer(kafka, runsConsumerConfig(t.group, SESSION_TIMEOUT_MS));
  await consumer.connect();
  await consumer.subscribe({ topic: t.runsTopic, fromBeginning: true });
  let start = 0;
  let parsed = 0;
  let cpu = process.cpuUsage();
  await new Promise<void>((resolve) => {
    void consumer.run({
      partitionsConsumedConcurrently: RUNS_PARTITIONS_CONCURRENTLY,
      eachBatch: ({ batch }) => {
        if (start === 0) {
          start = Date.now();
          cpu = process.cpuUsage();
        }
        for (const m of batch.messages) {
          JSON.parse(m.value!.toString());
          if (++parsed === t.runs) resolve();
        }
        return Promise.resolve();
      },
    });
  });
  const rate = t.runs / (Math.max(1, Date.now() - start) / 1000);
  const used = process.cpuUsage(cpu);
  await consumer.disconnect();
  return { rate, peakRssMiB: peakRssMiB(), cpuPerRun: (used.user + used.system) / t.runs };
}

async function evaluator(t: ChildTask): Promise<ChildResult> {
  let fatal: Error | undefined;
  // BENCH_CPU_PROFILE=dir: a profile of this process from its start until the rule book is loaded, and
  // one from then until the last run is read.
  const profile = await cpuProfile();
  const began = Date.now();
  const cpu = process.cpuUsage();
  let loadCpuSeconds = 0;
  const e = await startEvaluator({
    onFatal: (error) => (fatal = error),
    brokers: t.brokers,
    topicPrefix: t.prefix,
    groupId: t.group,
    instanceId: t.group,
    maxRunBytes: 512 * 1024,
    tickIntervalMs: NO_TICKS_MS,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    topicOverrides: { runs: t.runsTopic, rules: t.rulesTopic, windows: t.windowsTopic },
    http: { host: "127.0.0.1", port: 0 },
    log: (level, message, fields) => {
      if (level === "error") console.error(`  [evaluator] ${message} ${JSON.stringify(fields ?? {})}`);
    },
  });
  const check = () => {
    if (fatal !== undefined) throw new Error(`the evaluator stopped: ${fatal.message}`);
  };
  // Runs wait for the rule book (each is judged by the versions in force at its time), so the first
  // run is read about when the book is complete; both are watched in one loop all the same.
  let loaded: number | undefined;
  let start: number | undefined;
  let runsProfile: Profile | undefined;
  let runsCpu = process.cpuUsage();
  while (e.counters.runsRead < t.runs || loaded === undefined) {
    check();
    if (start === undefined && e.counters.runsRead > 0) {
      start = Date.now();
      runsCpu = process.cpuUsage();
    }
    // Every 50 ms: a scrape costs the evaluator's event loop too.
    if (loaded === undefined && (await gauge(e.url!, "runhooks_evaluator_rules_known")) >= t.rules) {
      loaded = Date.now();
      const used = process.cpuUsage(cpu);
      loadCpuSeconds = (used.user + used.system) / 1e6;
      await profile.stop(`evaluator-rule-book-${t.rules}`);
      // And one of the runs read after it, until the last.
      runsProfile = await cpuProfile();
    }
    sample();
    await new Promise((r) => setTimeout(r, loaded === undefined ? 50 : 5));
  }
  const usedCpu = process.cpuUsage(runsCpu);
  // With BENCH_NODE_FLAGS (e.g. --trace-gc): where the runs phase lies on the process' own clock.
  if (process.env["BENCH_NODE_FLAGS"] !== undefined)
    console.log(
      `[child] runs phase ${(performance.now() - (Date.now() - start!)).toFixed(0)}–${performance.now().toFixed(0)} ms`,
    );
  await runsProfile?.stop(`evaluator-runs-${t.rules}`);
  const loadSeconds = (loaded - began) / 1000;
  const rate = t.runs / (Math.max(1, Date.now() - start!) / 1000);
  const openWindows = await gauge(e.url!, "runhooks_evaluator_open_windows");
  const memory = { ...breakdown("peak "), ...(gcNow(), breakdown("gc ")) };
  // BENCH_HEAP_SNAPSHOT=file: what the evaluator holds at the end, after a collection.
  const snapshotTo = process.env["BENCH_HEAP_SNAPSHOT"];
  if (snapshotTo !== undefined) v8.writeHeapSnapshot(snapshotTo);
  const result = {
    memory,
    rate,
    loadSeconds,
    loadCpuSeconds,
    peakRssMiB: peakRssMiB(),
    openWindows,
    matched: e.counters.runsMatched,
    parts: e.counters.windowsEmitted,
    cpuPerRun: (usedCpu.user + usedCpu.system) / t.runs,
  };
  await e.stop();
  return result;
}

process.once("message", (task: ChildTask) => {
  void (task.mode === "raw" ? raw(task) : evaluator(task)).then(
    (result) => process.send!(result, () => process.exit(0)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});
