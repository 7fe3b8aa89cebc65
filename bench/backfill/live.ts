// Live latency during a backfill: the run → webhook latency of live traffic (Kafka append time →
// arrival at a local receiver) at BENCH_LIVE_RATE runs/s while a backfill of BENCH_BACKFILL_RUNS runs
// proceeds, against a baseline period of the same traffic without it.
//
// The engine's api, evaluator and delivery run in this process as `npm start` runs them; the backfill
// service runs as it does in production: `runhooks-backfill` in a child process at its nice value, with
// its production defaults (RUNHOOKS_BACKFILL_MAX_RUNS_PER_S, RUNHOOKS_BACKFILL_MAX_LIVE_LAG, … from
// services/backfill/src/env.ts). The backfill's windows go to the same receiver, recognised by their
// `runhooks-backfill` header and left out of the live latency.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { evaluatorPositions, groupLag, readBackfillEnv } from "@runhooks/backfill";
import { openRunsProducer } from "@runhooks/cli";
import { generateSecretKey } from "@runhooks/db";
import type { Stack } from "@runhooks/infra";
import { createKafka, topicNames } from "@runhooks/kafka";
import { startBenchEngine } from "../support/bench-engine.js";
import { latencyStats, percentileOf } from "../support/latency.js";
import { liveRun, produceAtRate } from "../support/live-runs.js";
import { firstArrivals, startReceiver } from "../support/receiver.js";
import { backfillRule, producePastRuns } from "./past-runs.js";
import type { Admin } from "kafkajs";

export interface LiveOptions {
  readonly backfillRuns: number;
  readonly liveRate: number;
  readonly liveRules: number;
  readonly baselineSeconds: number;
  readonly warmupSeconds: number;
}

const WINDOW_S = 1;
/** The target: p99 run → webhook at most the window plus this, while the backfill proceeds. */
const TARGET_OVER_WINDOW_MS = 500;
const PARTITIONS = 6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");

interface BackfillView {
  id: string;
  state: string;
  runs_read: number;
  runs_total: number | null;
  windows_sent: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

/** CPU seconds (user + system) a process has used, from /proc; undefined where there is no /proc. */
function cpuSeconds(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

export async function measureLive(stack: Stack, o: LiveOptions, say: (line: string) => void): Promise<void> {
  const receiver = await startReceiver();
  // A key of its own sealing webhook secrets, given to the engine and the backfill process alike.
  const bench = await startBenchEngine(stack, "backfill", ["api", "evaluator", "delivery"], say, {
    RUNHOOKS_SECRETS_KEY: generateSecretKey(),
  });
  const { call, prefix } = bench;
  // The settings the backfill process reads: its production defaults.
  const settings = readBackfillEnv(bench.env);
  const kafka = createKafka({ brokers: stack.brokers, clientId: "bench-backfill", logLevel: "error" });
  const admin = kafka.admin();
  await admin.connect();
  // The backfill service as production runs it: its own process, at RUNHOOKS_BACKFILL_NICE (main.ts).
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", "services/backfill/src/main.ts"], {
    cwd: root,
    env: { ...bench.env, RUNHOOKS_INSTANCE_ID: "bench-backfill", RUNHOOKS_LOG_LEVEL: "warn" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  try {
    const created = (await call("/admin/tenants", bench.adminKey, { name: "bench" })) as {
      tenant: { id: string };
      api_key: { key: string };
    };
    const tenantId = created.tenant.id;
    const key = created.api_key.key;
    // Rule j takes the live runs of bucket j: each matches 1% of them.
    for (let j = 0; j < o.liveRules; j++)
      await call("/rules", key, {
        display_name: `live ${j}`,
        filter: { "==": [{ var: "metadata.bucket" }, j] },
        sampling_rate: 1,
        window: { seconds: WINDOW_S, max_runs: 1000 },
        webhooks: [{ url: `http://127.0.0.1:${receiver.port}/hooks/live/${j}` }],
      });
    await bench.rulesPublished();

    // The past: runs the backfill's rule (created after them) has never seen; the live evaluators read them first.
    let t0 = Date.now();
    const range = await producePastRuns(kafka, topicNames(prefix).runs, PARTITIONS, o.backfillRuns, tenantId);
    say(`${o.backfillRuns.toLocaleString("en-US")} past runs produced in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    t0 = Date.now();
    while ((await liveLag(admin, `${prefix}-evaluator`, topicNames(prefix).runs)) > 1000) await sleep(500);
    say(`the live evaluator read them in ${((Date.now() - t0) / 1000).toFixed(1)} s more`);
    const { rule } = (await call("/rules", key, backfillRule(`http://127.0.0.1:${receiver.port}/hooks/backfill`))) as {
      rule: { id: string };
    };
    await bench.rulesPublished();

    // Live traffic from here until the backfill's last window has arrived, and a little more.
    const producer = await openRunsProducer(kafka, prefix);
    const appendTimes = new Map<string, number>();
    const matching = new Set<string>();
    let stopLive = false;
    const measuredFrom = Date.now() + o.warmupSeconds * 1000;
    const live = produceAtRate({
      producer,
      rate: o.liveRate,
      done: () => stopLive,
      make: (i, now) => liveRun(tenantId, i, now),
      appended: (r, t) => {
        if (t < measuredFrom) return;
        appendTimes.set(r.id, t);
        if (r.extra.metadata.bucket < o.liveRules) matching.add(r.id);
      },
    });
    say(
      `live: ${o.liveRate} runs/s, ${o.liveRules} rules of ${WINDOW_S} s windows (${o.liveRules}% of runs match); ` +
        `${o.warmupSeconds} s of warm-up, ${o.baselineSeconds} s without a backfill (load ${load()})`,
    );
    await sleep((o.warmupSeconds + o.baselineSeconds) * 1000);
    const baselineTo = Date.now();
    const loadBaseline = load();
    const cpuBefore = cpuSeconds(child.pid);
    const started = (await call(`/rules/${rule.id}/backfill`, key, {
      from: range.from.toISOString(),
      to: range.to.toISOString(),
    })) as unknown as BackfillView;
    let b: BackfillView = started;
    let shown = Date.now();
    // The live evaluators' lag as the backfill sees it (its pause signal), sampled every second.
    const lags: number[] = [];
    let lagAt = 0;
    while (b.state === "pending" || b.state === "running") {
      await sleep(500);
      if (Date.now() - lagAt >= 1000) {
        lagAt = Date.now();
        lags.push(await liveLag(admin, `${prefix}-evaluator`, topicNames(prefix).runs));
      }
      const list = (await call(`/rules/${rule.id}/backfills`, key, undefined, "GET")) as unknown as {
        backfills: BackfillView[];
      };
      b = list.backfills.find((x) => x.id === started.id)!;
      if (Date.now() - shown >= 10_000) {
        shown = Date.now();
        say(
          `  backfill ${b.state}: ${b.runs_read} of ${b.runs_total ?? "?"} read, ${b.windows_sent} windows (load ${load()})`,
        );
      }
    }
    const cpuAfter = cpuSeconds(child.pid);
    const loadBackfill = load();
    // The backfill's windows still being sent compete with live ones: the period runs to the last arrival.
    const backfillWindows = b.windows_sent;
    const deliveredFrom = Date.now();
    const backfillArrivals = () => receiver.arrivals.filter((a) => a.backfillId !== undefined);
    while (
      new Set(backfillArrivals().map((a) => a.deliveryId)).size < backfillWindows &&
      Date.now() - deliveredFrom < 120_000
    )
      await sleep(500);
    const lastBackfillArrival = Math.max(0, ...backfillArrivals().map((a) => a.at));
    await sleep(2000);
    stopLive = true;
    const produced = await live;
    await producer.close();

    // Drain: every measured matching run has arrived, or 60 s have passed.
    const drainFrom = Date.now();
    const seen = new Set<string>();
    let scanned = 0;
    while (Date.now() - drainFrom < 60_000) {
      for (; scanned < receiver.arrivals.length; scanned++)
        for (const id of receiver.arrivals[scanned]!.runIds) if (appendTimes.has(id)) seen.add(id);
      if (seen.size >= matching.size) break;
      await sleep(200);
    }

    const startedAt = Date.parse(b.started_at ?? started.created_at);
    const finishedAt = Date.parse(b.finished_at ?? new Date().toISOString());
    const duringTo = Math.max(finishedAt, lastBackfillArrival);
    const baseline: number[] = [];
    const during: number[] = [];
    let backfillPosts = 0;
    for (const a of firstArrivals(receiver.arrivals).values()) {
      if (a.backfillId !== undefined) {
        backfillPosts++;
        continue;
      }
      for (const id of a.runIds) {
        const t = appendTimes.get(id);
        if (t === undefined) continue;
        if (t < baselineTo) baseline.push(a.at - t);
        else if (t >= startedAt && t <= duringTo) during.push(a.at - t);
      }
    }
    const windowMs = WINDOW_S * 1000;
    const seconds = (finishedAt - startedAt) / 1000;
    const over = percentileOf(during, 99) - windowMs;
    const cpu = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
    say("");
    say(
      `live traffic         ${produced.sent} runs at ${(produced.sent / produced.seconds).toFixed(0)} runs/s achieved ` +
        `(${produced.late} sends over their ${produced.slotMs} ms slot); ${seen.size} of ${matching.size} measured matching runs arrived`,
    );
    say(`window               ${windowMs} ms`);
    say(`without backfill     ${latencyStats(baseline)}   (${baseline.length} runs; load ${loadBaseline})`);
    say(
      `during backfill      ${latencyStats(during)}   (${during.length} runs appended from the claim to the last backfill window's arrival; load ${loadBackfill})`,
    );
    say(
      `  p99 − window       ${Math.round(over)} ms   target ≤ ${TARGET_OVER_WINDOW_MS} ms: ${over <= TARGET_OVER_WINDOW_MS ? "MET" : "NOT MET"}` +
        `${o.liveRate === 2000 && o.backfillRuns === 1_000_000 ? "" : " (not the target's load: 2,000 runs/s during a 1,000,000-run backfill)"}`,
    );
    say(
      `backfill             ${b.state}: ${b.runs_read.toLocaleString("en-US")} of ${(b.runs_total ?? 0).toLocaleString("en-US")} messages judged in ` +
        `${seconds.toFixed(1)} s (claim to end) = ${Math.round(b.runs_read / seconds).toLocaleString("en-US")} runs/s ` +
        `(throttle ${settings.RUNHOOKS_BACKFILL_MAX_RUNS_PER_S.toLocaleString("en-US")} runs/s); ` +
        `${backfillWindows} windows, ${backfillPosts} POSTs, the last ${((lastBackfillArrival - finishedAt) / 1000).toFixed(1)} s after its end`,
    );
    const maxLiveLag = settings.RUNHOOKS_BACKFILL_MAX_LIVE_LAG;
    say(
      `  live lag           p50 ${Math.round(percentileOf(lags, 50))}, max ${Math.max(0, ...lags)} messages ` +
        `(${Math.round((percentileOf(lags, 50) * 1000) / o.liveRate)} and ${Math.round((Math.max(0, ...lags) * 1000) / o.liveRate)} ms of live traffic) over ${lags.length} samples a second apart; ` +
        `${lags.filter((l) => l > maxLiveLag).length} above the pause threshold (${maxLiveLag})`,
    );
    if (cpu !== undefined)
      say(
        `  backfill process   ${cpu.toFixed(1)} s CPU = ${((cpu * 1e6) / Math.max(1, b.runs_read)).toFixed(1)} µs per run judged (child process at nice ${settings.RUNHOOKS_BACKFILL_NICE})`,
      );
    say(
      `rerun: ${process.env["RUNHOOKS_BACKFILL_MAX_RUNS_PER_S"] ? `RUNHOOKS_BACKFILL_MAX_RUNS_PER_S=${settings.RUNHOOKS_BACKFILL_MAX_RUNS_PER_S} ` : ""}BENCH_PARTS=live BENCH_BACKFILL_RUNS=${o.backfillRuns} BENCH_LIVE_RATE=${o.liveRate} BENCH_BASELINE_S=${o.baselineSeconds} npm run bench:backfill`,
    );
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once("exit", resolve)));
    await admin.disconnect();
    await bench.stop();
    receiver.stop();
  }
}

/** The live evaluators' lag (the backfill's own measure); all of the topic while the group has committed nothing. */
async function liveLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [ends, groups] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const high = new Map(ends.map((e) => [e.partition, Number(e.high)]));
  return (
    groupLag(high, evaluatorPositions(groups[0]?.partitions ?? [])) ?? [...high.values()].reduce((n, h) => n + h, 0)
  );
}
