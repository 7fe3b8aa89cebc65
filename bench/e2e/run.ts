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
import { spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import { openRunsProducer, percentile } from "@runhooks/cli";
import { connectDatabase, sql } from "@runhooks/db";
import { readInfraEnv, startEngine, startStack } from "@runhooks/infra";
import { createKafka } from "@runhooks/kafka";
import type { Kafka } from "kafkajs";
import { deleteBenchTopics } from "../support/bench-topics.js";

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

// Prints one line per request: arrival ms, delivery id, rule id, window start, window end, chunk index and
// count, the run ids.
const RECEIVER = `
  const http = require("node:http");
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const t = Date.now();
      res.writeHead(204).end();
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString());
        const chunk = req.headers["runhooks-chunk-index"] + " " + req.headers["runhooks-chunk-count"];
        process.stdout.write([t, req.headers["webhook-id"], body.rule_id, body.start_time, body.end_time, chunk, body.runs.map((r) => r.id).join(",")].join(" ") + "\\n");
      } catch {}
    });
  });
  server.keepAliveTimeout = 30000;
  server.listen(0, "127.0.0.1", () => process.stdout.write("port " + server.address().port + "\\n"));
  process.on("SIGTERM", () => process.exit(0));
`;

function run(tenantId: string, i: number, now: number) {
  const id = randomUUID();
  return {
    id,
    trace_id: id,
    name: i % 3 === 0 ? "RetrievalQA" : "ChatOpenAI",
    run_type: i % 3 === 0 ? "chain" : "llm",
    status: "success",
    start_time: new Date(now - 1500).toISOString(),
    end_time: new Date(now).toISOString(),
    tenant_id: tenantId,
    session_id: "6a3be6a2-9a8c-4fc8-b4c6-a8983b286cc5",
    dotted_order: `20240405T012854085646Z${id}`,
    is_root: true,
    tags: ["bench"],
    // 37 is coprime to 100: every 100 runs of a tenant visit every bucket, so matches are spread evenly in time.
    extra: { metadata: { env: "prod", bucket: (i * 37) % 100, ls_model_name: "gpt-4o-mini" } },
    inputs: { messages: [{ role: "user", content: "Summarise the quarterly report for the board. ".repeat(4) }] },
    outputs: { generations: [{ text: "The quarter closed with revenue up and costs flat. ".repeat(4) }] },
    total_tokens: 800 + (i % 2000),
    total_cost: 0.0012,
  };
}

interface Arrival {
  readonly at: number;
  readonly deliveryId: string;
  readonly ruleId: string;
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly chunkIndex: number;
  readonly chunkCount: number;
  readonly runIds: readonly string[];
}

function stats(values: number[]): string {
  values.sort((a, b) => a - b);
  const f = (v: number) => `${Math.round(v)}`.padStart(5);
  return `p50 ${f(percentile(values, 50))} ms   p99 ${f(percentile(values, 99))} ms   max ${f(values[values.length - 1] ?? Number.NaN)} ms`;
}

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
          const kind = message.headers?.["runhooks-kind"]?.toString();
          if (kind === "part" && message.key !== null) partitionOfRule.set(message.key.toString(), partition);
          if (kind === "watermark" && message.value !== null) {
            const w = JSON.parse(message.value.toString()) as { runs_partition: number; stream_time: number };
            let byRuns = marks.get(partition);
            if (!byRuns) marks.set(partition, (byRuns = new Map<number, Mark[]>()));
            let list = byRuns.get(w.runs_partition);
            if (!list) byRuns.set(w.runs_partition, (list = []));
            list.push({ streamTime: w.stream_time, publishedAt: Number(message.timestamp) });
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
  const receiver = spawn(process.execPath, ["-e", RECEIVER], { stdio: ["ignore", "pipe", "inherit"] });
  const arrivals: Arrival[] = [];
  const port = await new Promise<number>((resolve) => {
    createInterface({ input: receiver.stdout }).on("line", (line) => {
      if (line.startsWith("port ")) return resolve(Number(line.slice(5)));
      const [at, deliveryId, ruleId, start, end, chunkIndex, chunkCount, ids] = line.split(" ");
      arrivals.push({
        at: Number(at),
        deliveryId: deliveryId!,
        ruleId: ruleId!,
        windowStart: Date.parse(start!),
        windowEnd: Date.parse(end!),
        chunkIndex: Number(chunkIndex),
        chunkCount: Number(chunkCount),
        runIds: (ids ?? "").split(","),
      });
    });
  });

  // A database and topics of the bench's own.
  const name = `rh_bench_e2e_${randomBytes(4).toString("hex")}`;
  const adminUrl = new URL(stack.databaseUrl);
  adminUrl.pathname = "/postgres";
  const pgAdmin = connectDatabase({ url: adminUrl.toString(), poolSize: 1 });
  await pgAdmin.query(sql`CREATE DATABASE ${sql.ident(name)}`);
  const dbUrl = new URL(stack.databaseUrl);
  dbUrl.pathname = `/${name}`;
  const prefix = `bench-e2e-${randomBytes(4).toString("hex")}`;
  const adminKey = `rhadm_${randomBytes(16).toString("hex")}`;
  const engine = await startEngine(
    readInfraEnv({
      ...process.env,
      KAFKA_BROKERS: stack.brokers.join(","),
      DATABASE_URL: dbUrl.toString(),
      RUNHOOKS_TOPIC_PREFIX: prefix,
    }),
    ["api", "evaluator", "delivery"],
    (line) => say(`[engine] ${line}`),
    {
      ...process.env,
      RUNHOOKS_ADMIN_KEY: adminKey,
      RUNHOOKS_API_PORT: "0",
      RUNHOOKS_EVALUATOR_PORT: "-1",
      RUNHOOKS_DELIVERY_PORT: "-1",
      RUNHOOKS_EVALUATOR_GROUP: `${prefix}-evaluator`,
      RUNHOOKS_DELIVERY_GROUP: `${prefix}-delivery`,
      RUNHOOKS_DELIVERY_ALLOW_CIDRS: "127.0.0.1/32",
      RUNHOOKS_LOG_LEVEL: "error",
    },
  );
  const db = connectDatabase({ url: dbUrl.toString(), poolSize: 2 });
  try {
    const api = engine.services.find((s) => s.name === "api")!.url!;
    const call = async (path: string, key: string, body?: unknown, method = "POST") => {
      const response = await fetch(`${api}${path}`, {
        method,
        headers: { "x-api-key": key, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as Record<string, unknown>;
    };
    // 10 tenants, RULES/10 rules each; rule j of a tenant takes its runs of bucket j (a tenth of runs match).
    const tenants: { id: string; key: string }[] = [];
    for (let t = 0; t < TENANTS; t++) {
      const created = (await call("/admin/tenants", adminKey, { name: `bench-${t}` })) as {
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
    for (;;) {
      const [pending] = (await db.query(sql`SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL`)) as {
        n: number;
      }[];
      if (pending?.n === 0) break;
      await sleep(100);
    }
    say(
      `${TENANTS} tenants, ${TENANTS * MATCHING_BUCKETS} rules of ${WINDOW_S} s windows in force; producing ${RATE} runs/s for ${WARMUP_S} s of warm-up + ${SECONDS} s`,
    );

    const kafka = createKafka({ brokers: stack.brokers, clientId: "bench-e2e", logLevel: "error" });
    const producer = await openRunsProducer(kafka, prefix);
    const appendTimes = new Map<string, number>();
    const measuredFrom = Date.now() + WARMUP_S * 1000;
    const started = Date.now();
    const total = RATE * (WARMUP_S + SECONDS);
    const tickMs = 20;
    let sent = 0;
    let late = 0;
    const matches = new Set<string>();
    const matching = new Set<string>();
    while (sent < total) {
      // At most 400 runs a send (a stalled loop catches up over several sends, each partition's batch
      // well under the broker's 1 MiB).
      const due = Math.min(
        total,
        sent + 400,
        Math.floor(((Date.now() - started) / 1000) * RATE) + Math.ceil((RATE * tickMs) / 1000),
      );
      const batch = [];
      const now = Date.now();
      for (; sent < due; sent++) {
        const r = run(tenants[sent % TENANTS]!.id, Math.floor(sent / TENANTS), now);
        batch.push({ id: r.id, key: r.trace_id, json: JSON.stringify(r) });
        if (r.extra.metadata.bucket < MATCHING_BUCKETS) matches.add(r.id);
      }
      const sendStart = Date.now();
      for (const [id, t] of await producer.send(batch)) {
        if (t < measuredFrom) continue;
        appendTimes.set(id, t);
        if (matches.has(id)) matching.add(id);
      }
      matches.clear();
      if (Date.now() - sendStart > tickMs) late++;
      await sleep(Math.max(0, tickMs - (Date.now() - sendStart)));
    }
    const elapsed = (Date.now() - started) / 1000;
    await producer.close();
    say(
      `produced ${sent} runs in ${elapsed.toFixed(1)} s (${(sent / elapsed).toFixed(0)} runs/s achieved; ${late} sends took longer than their ${tickMs} ms slot)`,
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
    const first = new Map<string, Arrival>();
    for (const a of arrivals)
      if (!first.has(a.deliveryId) || a.at < first.get(a.deliveryId)!.at) first.set(a.deliveryId, a);
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
    await db.dispose();
    await engine.stop();
    receiver.kill("SIGTERM");
    await pgAdmin.query(sql`DROP DATABASE IF EXISTS ${sql.ident(name)} WITH (FORCE)`).catch(() => undefined);
    await pgAdmin.dispose();
    await deleteBenchTopics(stack.brokers, prefix);
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
