// End-to-end latency: at a steady rate of runs (default 5,000/s) with 100 rules of 1 s windows, the
// time from a run's log time (its Kafka append time) to the arrival at a webhook receiver of the first
// request carrying it; p50/p99/max over the measured period. Target: p99 ≤ window + 250 ms. Also the
// POSTs per window (one per rule window: 1.00 unless a window holds more than max_runs runs).
//
//   npm run bench:e2e        (BENCH_SECONDS=60, BENCH_RATE=5000, BENCH_RULES=100, BENCH_WINDOW_S=1, BENCH_WARMUP_S=5)
//
// The engine (api, evaluator, delivery) runs in this process, as `npm start` runs it, on the local
// stack (started or reused, stopped if started) with its own topics and database; the receiver runs
// in a child process so its arrival times do not wait for this process's event loop. Each latency is
// split at the window's end, at the moment the watermarks that complete the window were published (the
// last runs partition's watermark past its end), and at the moment delivery stored it
// (delivery_windows.received_at) to show where the time goes.
import { randomBytes } from "node:crypto";
import { openRunsProducer, percentile } from "@runhooks/cli";
import { sql } from "@runhooks/db";
import { readInfraEnv, startStack } from "@runhooks/infra";
import { decodeWindowsMessage } from "@runhooks/delivery";
import { createKafka } from "@runhooks/kafka";
import type { Kafka } from "kafkajs";
import { startBenchEngine } from "../support/bench-engine.js";
import { latencyStats as stats } from "../support/latency.js";
import { liveRun, produceAtRate } from "../support/live-runs.js";
import { firstArrivals, startReceiver } from "../support/receiver.js";

const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 60);
const RATE = Number(process.env["BENCH_RATE"] ?? 5000);
const RULES = Number(process.env["BENCH_RULES"] ?? 100);
const WINDOW_S = Number(process.env["BENCH_WINDOW_S"] ?? 1);
const WARMUP_S = Number(process.env["BENCH_WARMUP_S"] ?? 5);
const DRAIN_S = Number(process.env["BENCH_DRAIN_S"] ?? 60);
const TENANTS = 10;
/** A run matches a rule of its tenant when its bucket (0–99) is below this: 10% of runs match one rule. */
const MATCHING_BUCKETS = RULES / TENANTS;
const MAX_RUNS = 1000;
/** The target: p99 run → webhook at most the window plus this. */
const TARGET_OVER_WINDOW_MS = 250;
const say = (line: string) => console.log(line);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A runs partition's watermark as one windows partition holds it: its stream time and when it was published. */
interface Mark {
  readonly streamTime: number;
  readonly publishedAt: number;
}

/**
 * When the watermarks that complete each window were published, from the windows topic: a rule's window
 * is complete in its rule's windows partition once every runs partition's watermark there has passed
 * its end, so the moment is the latest, over runs partitions, of the first such watermark's CreateTime
 * (set by the evaluator's producer). Undefined for a window whose watermarks are not all there.
 */
async function completionTimes(
  kafka: Kafka,
  topic: string,
): Promise<(ruleId: string, end: number) => number | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(
    ends.filter((e) => Number(e.high) > Number(e.low)).map((e) => [e.partition, Number(e.high)]),
  );
  /** Per windows partition, per runs partition, the watermarks in log order. */
  const marks = new Map<number, Map<number, Mark[]>>();
  const partitionOfRule = new Map<string, number>();
  if (remaining.size > 0) {
    const consumer = kafka.consumer({ groupId: `${topic}-bench-read-${randomBytes(4).toString("hex")}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: ({ partition, message }) => {
          const m = decodeWindowsMessage(message);
          if (m.kind === "parts") for (const p of m.parts) partitionOfRule.set(p.part.ruleId, partition);
          if (m.kind === "watermark") {
            let byRuns = marks.get(partition);
            if (!byRuns) marks.set(partition, (byRuns = new Map<number, Mark[]>()));
            let list = byRuns.get(m.runsPartition);
            if (!list) byRuns.set(m.runsPartition, (list = []));
            list.push({ streamTime: m.streamTime, publishedAt: Number(message.timestamp) });
          }
          if (Number(message.offset) + 1 >= (remaining.get(partition) ?? 0)) remaining.delete(partition);
          if (remaining.size === 0) resolve();
          return Promise.resolve();
        },
      });
    });
    await consumer.disconnect();
  }
  return (ruleId, end) => {
    const byRuns = marks.get(partitionOfRule.get(ruleId) ?? -1);
    if (byRuns === undefined) return undefined;
    let latest = 0;
    for (const list of byRuns.values()) {
      const first = list.find((m) => m.streamTime >= end);
      if (first === undefined) return undefined;
      latest = Math.max(latest, first.publishedAt);
    }
    return latest;
  };
}

async function main(): Promise<void> {
  const infra = readInfraEnv();
  const stack = await startStack(infra, (line) => say(`[stack] ${line}`));
  const receiver = await startReceiver();
  const { arrivals, port } = receiver;
  const bench = await startBenchEngine(stack, "e2e", ["api", "evaluator", "delivery"], say);
  const { db, call, prefix } = bench;
  try {
    // 10 tenants, RULES/10 rules each; rule j of a tenant takes its runs of bucket j (a tenth of runs match).
    const tenants: { id: string; key: string }[] = [];
    for (let t = 0; t < TENANTS; t++) {
      const created = (await call("/admin/tenants", bench.adminKey, { name: `bench-${t}` })) as {
        tenant: { id: string };
        api_key: { key: string };
      };
      tenants.push({ id: created.tenant.id, key: created.api_key.key });
      for (let j = 0; j < MATCHING_BUCKETS; j++) {
        await call("/rules", created.api_key.key, {
          display_name: `bench ${t}/${j}`,
          filter: { "==": [{ var: "metadata.bucket" }, j] },
          sampling_rate: 1,
          window: { seconds: WINDOW_S, max_runs: MAX_RUNS },
          webhooks: [{ url: `http://127.0.0.1:${port}/hooks/${t}/${j}` }],
        });
      }
    }
    await bench.rulesPublished();
    say(
      `${TENANTS} tenants, ${TENANTS * MATCHING_BUCKETS} rules of ${WINDOW_S} s windows in force; producing ${RATE} runs/s for ${WARMUP_S} s of warm-up + ${SECONDS} s`,
    );

    const kafka = createKafka({ brokers: stack.brokers, clientId: "bench-e2e", logLevel: "error" });
    const producer = await openRunsProducer(kafka, prefix);
    const appendTimes = new Map<string, number>();
    const measuredFrom = Date.now() + WARMUP_S * 1000;
    const matching = new Set<string>();
    const produced = await produceAtRate({
      producer,
      rate: RATE,
      total: RATE * (WARMUP_S + SECONDS),
      done: () => false,
      make: (i, now) => liveRun(tenants[i % TENANTS]!.id, Math.floor(i / TENANTS), now),
      appended: (r, t) => {
        if (t < measuredFrom) return;
        appendTimes.set(r.id, t);
        if (r.extra.metadata.bucket < MATCHING_BUCKETS) matching.add(r.id);
      },
    });
    await producer.close();
    say(
      `produced ${produced.sent} runs in ${produced.seconds.toFixed(1)} s (${(produced.sent / produced.seconds).toFixed(0)} runs/s achieved; ${produced.late} sends took longer than their ${produced.slotMs} ms slot)`,
    );

    // Drain: every measured run that matches has arrived, or BENCH_DRAIN_S have passed.
    const expected = matching.size;
    const waitFrom = Date.now();
    const seen = new Set<string>();
    let scanned = 0;
    while (Date.now() - waitFrom < DRAIN_S * 1000) {
      for (; scanned < arrivals.length; scanned++)
        for (const id of arrivals[scanned]!.runIds) if (appendTimes.has(id)) seen.add(id);
      if (seen.size >= expected) break;
      await sleep(200);
    }

    // Where the time goes: run → window end (waiting for the window), window end → complete (every
    // runs partition's stream time passing the end: ticks, flushes, watermarks published), complete →
    // stored by delivery (consuming, assembling, storing), stored → arrival (sending).
    const rows = (await db.query(
      sql`SELECT d.id, d.window_id, w.received_at FROM deliveries d JOIN delivery_windows w USING (window_id)`,
    )) as {
      id: string;
      window_id: string;
      received_at: Date;
    }[];
    const stored = new Map(rows.map((r) => [r.id, r.received_at.getTime()]));
    const completedAt = await completionTimes(kafka, `${prefix}.windows`);
    const first = firstArrivals(arrivals);
    const total_: number[] = [];
    const toEnd: number[] = [];
    const closing: number[] = [];
    const bySlice: number[][] = [];
    const completing: number[] = [];
    const assembling: number[] = [];
    const sending: number[] = [];
    /** POSTs (first arrivals) per measured window, and the windows that held more than max_runs runs. */
    const postsPerWindow = new Map<string, number>();
    let chunked = 0;
    for (const a of first.values()) {
      const ids = a.runIds.filter((id) => appendTimes.has(id));
      if (ids.length === 0) continue;
      const window = `${a.ruleId} ${a.windowStart}`;
      postsPerWindow.set(window, (postsPerWindow.get(window) ?? 0) + 1);
      if (a.chunkIndex === 0 && a.chunkCount > 1) chunked++;
      const storedAt = stored.get(a.deliveryId);
      const completeAt = completedAt(a.ruleId, a.windowEnd);
      if (completeAt !== undefined && storedAt !== undefined) {
        completing.push(completeAt - a.windowEnd);
        assembling.push(storedAt - completeAt);
      }
      if (storedAt !== undefined) {
        closing.push(storedAt - a.windowEnd);
        sending.push(a.at - storedAt);
      }
      for (const id of ids) {
        total_.push(a.at - appendTimes.get(id)!);
        const slice = Math.floor((appendTimes.get(id)! - measuredFrom) / 5000);
        (bySlice[slice] ??= []).push(a.at - appendTimes.get(id)!);
        toEnd.push(a.windowEnd - appendTimes.get(id)!);
      }
    }
    const windowMs = WINDOW_S * 1000;
    const sorted = [...total_].sort((a, b) => a - b);
    const overWindow = percentile(sorted, 99) - windowMs;
    const posts = [...postsPerWindow.values()].reduce((n, c) => n + c, 0);
    say("");
    say(
      `runs measured        ${appendTimes.size} (after ${WARMUP_S} s of warm-up); ${seen.size} of ${expected} matching runs arrived; ${first.size} deliveries`,
    );
    say(`run → webhook        ${stats(total_)}`);
    say(
      `  p99 − window       ${Math.round(overWindow)} ms   target ≤ ${TARGET_OVER_WINDOW_MS} ms (p99 ≤ window + ${TARGET_OVER_WINDOW_MS} ms at 5,000 runs/s, 100 rules of 1 s windows): ` +
        `${overWindow <= TARGET_OVER_WINDOW_MS ? "MET" : "NOT MET"}${RATE === 5000 && RULES === 100 && WINDOW_S === 1 ? "" : " (not the target's load)"}`,
    );
    say(
      `POSTs per window     ${(posts / Math.max(1, postsPerWindow.size)).toFixed(2)} (${posts} POSTs, ${postsPerWindow.size} rule windows, ` +
        `${chunked} of them over max_runs ${MAX_RUNS}; 1.00 when none is)`,
    );
    say(
      `  p50 by 5 s of log time: ${bySlice
        .map(
          (v) =>
            `${Math.round(
              percentile(
                [...v].sort((a, b) => a - b),
                50,
              ),
            )}`,
        )
        .join(", ")} ms` + "   (growing: the pipeline falls behind the rate; flat: a fixed delay)",
    );
    say(`  run → window end   ${stats(toEnd)}   (waiting for the window: inherent, up to ${windowMs} ms)`);
    say(
      `  end → stored       ${stats(closing)}   (per window: its completion over every runs partition, delivery assembling and storing it)`,
    );
    say(
      `    end → complete   ${stats(completing)}   (the evaluators: every runs partition's stream time past the end, the flush, its watermark published)`,
    );
    say(
      `    complete → stored ${stats(assembling)}   (delivery: consuming the parts and watermarks, assembling, storing the window and its deliveries)`,
    );
    say(`  stored → arrival   ${stats(sending)}   (per window: delivery sending it)`);
    say("");
    say(
      `machine: ${(await import("node:os")).cpus().length} cores, shared with Kafka, PostgreSQL, the receiver and other work`,
    );
    say(
      `rerun: BENCH_SECONDS=${SECONDS} BENCH_RATE=${RATE} BENCH_RULES=${RULES} BENCH_WINDOW_S=${WINDOW_S} npm run bench:e2e`,
    );
  } finally {
    await bench.stop();
    receiver.stop();
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
