// Ingest throughput: runs per second accepted (202, i.e. acknowledged by Kafka with acks=all) through
// POST /runs/multipart in the langsmith SDK's batches (GET /info's size_limit operations per request,
// gzip-compressed multipart bodies as the SDK writes them), next to producing the same runs with kafkajs
// directly (same batch size, same concurrency, acks=all) in the same run, the two taking turns to go
// first. Target: the median of the rounds' ratios >= 0.7.
//
//   npm run bench:ingest        (BENCH_RUNS=20000, BENCH_CONCURRENCY=8, BENCH_ROUNDS=3, BENCH_WARMUP_RUNS=10000)
//
// The ingest service runs in a child process of its own, compiled, as deployed (`npm run bench:ingest`
// builds first); the bench process builds the bodies before timing (compressing is the SDK's cost, not
// the server's) and is the HTTP client and the direct kafkajs producer. Both producers are configured
// alike: acks=all, no compression, kafkajs' default partitioner and in-flight limits; both processes run
// with ingest's Node flags (INGEST_NODE_FLAGS: the child on its command line as deployed, this one
// through NODE_OPTIONS in the npm script). Each round also
// prints the CPU per run of each process (ingest, this client, the broker; from /proc): on a shared
// machine runs/s moves with what else runs, CPU per run much less. Starts (or reuses) the local Kafka
// and Postgres like the tests do.
import { spawn } from "node:child_process";
import { loadavg } from "node:os";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { Agent, request } from "undici";
import { connectDatabase, createApiKey, createTenant, migrate } from "@runhooks/db";
import { INGEST_NODE_FLAGS } from "@runhooks/ingest";
import { readInfraEnv, repoRoot, startStack } from "@runhooks/infra";
import { createKafka, ensureTopics, topicNames, topicSpecs } from "@runhooks/kafka";
import kafkajs from "kafkajs";
import { multipartBody, runParts } from "../../services/ingest/test/multipart-body.js";
import { freePort } from "../../test/support/net.js";
import { median } from "../support/stats.js";
import { cpuPerRun, pidFromFile, readCpu } from "./cpu.js";

const N = Number(process.env["BENCH_RUNS"] ?? 20_000);
const CONCURRENCY = Number(process.env["BENCH_CONCURRENCY"] ?? 8);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 3);
// Both sides warm up alike before the timed rounds: long enough for V8 to optimise the hot code and size
// its heaps (with 2,000 runs, the first round still measured ingest's warm-up).
const WARMUP = Number(process.env["BENCH_WARMUP_RUNS"] ?? Math.min(N, 10_000));
const say = (line: string) => console.log(line);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A finished llm run of about 1 KiB, shaped like what traceable sends. */
function run(i: number): Record<string, unknown> {
  const id = randomUUID();
  const trace = i % 5 === 0 ? id : randomUUID();
  const start = Date.now();
  return {
    id,
    name: "ChatModel",
    run_type: "llm",
    start_time: start,
    end_time: start + 1200,
    trace_id: trace,
    parent_run_id: trace === id ? undefined : trace,
    dotted_order: `20260101T000000000000Z${trace}${trace === id ? "" : `.20260101T000000000001Z${id}`}`,
    session_name: "bench",
    tags: ["bench", "prod"],
    inputs: { messages: [{ role: "user", content: `question ${i}: ${"lorem ipsum ".repeat(20)}` }] },
    outputs: {
      content: `answer ${i}: ${"dolor sit amet ".repeat(20)}`,
      usage_metadata: { input_tokens: 120, output_tokens: 80, total_tokens: 200 },
    },
    extra: {
      metadata: { ls_model_name: "gpt-x", env: "prod", user: `u${i % 100}` },
      runtime: { sdk: "langsmith-js", sdk_version: "0.12.0" },
    },
    events: [{ name: "start", time: new Date(start).toISOString() }],
  };
}

/** Runs `tasks` with at most `concurrency` at once. */
async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

async function main(): Promise<void> {
  const stack = await startStack(readInfraEnv(), (line) => say(`[stack] ${line}`));
  let child: ReturnType<typeof spawn> | undefined;
  const prefix = `bench-ingest-${randomUUID().slice(0, 8)}`;
  const topics = topicNames(prefix);
  const kafka = createKafka({
    brokers: stack.brokers,
    clientId: "bench-ingest",
    logLevel: "error",
    logger: () => undefined,
  });
  try {
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(
      admin,
      topicSpecs({ prefix }).filter((s) => s.name === topics.runs),
    );
    await admin.disconnect();
    const db = connectDatabase({ url: stack.databaseUrl, poolSize: 2 });
    await migrate(db);
    const tenant = await createTenant(db, { name: prefix });
    if (!tenant.ok) throw new Error("tenant exists");
    const key = await createApiKey(db, tenant.tenant.id, "bench");
    await db.dispose();
    if (!key) throw new Error("no key");

    const port = await freePort();
    // BENCH_PROFILE=<dir>: a CPU profile of the ingest process, written when it stops.
    const profile = process.env["BENCH_PROFILE"]
      ? ["--cpu-prof", `--cpu-prof-dir=${process.env["BENCH_PROFILE"]}`]
      : [];
    // The compiled service, as deployed (`runhooks-ingest`, dist/main.js): `npm run bench:ingest` builds first.
    child = spawn(
      process.execPath,
      [...INGEST_NODE_FLAGS, ...profile, join(repoRoot, "services/ingest/dist/main.js")],
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          KAFKA_BROKERS: stack.brokers.join(","),
          DATABASE_URL: stack.databaseUrl,
          RUNHOOKS_TOPIC_PREFIX: prefix,
          RUNHOOKS_INGEST_PORT: String(port),
          RUNHOOKS_LOG_LEVEL: "warn",
        },
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const ok = await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (i > 300) throw new Error("ingest did not start");
      await sleep(100);
    }
    const info = (await (await fetch(`${url}/info`)).json()) as {
      batch_ingest_config: { size_limit: number; size_limit_bytes: number };
    };
    const batchSize = info.batch_ingest_config.size_limit;

    const agent = new Agent({ connections: CONCURRENCY, pipelining: 1 });
    const producer = kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
    });
    await producer.connect();

    const prepare = (count: number) => {
      const runs = Array.from({ length: count }, (_, i) => run(i));
      const bodies: { body: Buffer; headers: Record<string, string> }[] = [];
      const batches: { key: string; value: string }[][] = [];
      for (let i = 0; i < runs.length; i += batchSize) {
        const slice = runs.slice(i, i + batchSize);
        bodies.push(
          multipartBody(
            slice.flatMap((r) => runParts("post", r)),
            { gzip: true },
          ),
        );
        // The direct producer writes what ingest would: ISO times and the tenant filled in.
        batches.push(
          slice.map((r) => ({
            key: String(r["trace_id"]),
            value: JSON.stringify({
              ...r,
              start_time: new Date(r["start_time"] as number).toISOString(),
              end_time: new Date(r["end_time"] as number).toISOString(),
              tenant_id: tenant.tenant.id,
            }),
          })),
        );
      }
      return { bodies, batches };
    };
    const viaIngest = async (bodies: { body: Buffer; headers: Record<string, string> }[]) => {
      const started = performance.now();
      await pool(bodies, CONCURRENCY, async ({ body, headers }) => {
        const response = await request(`${url}/runs/multipart`, {
          method: "POST",
          headers: { ...headers, "x-api-key": key.key },
          body,
          dispatcher: agent,
        });
        const text = await response.body.text();
        if (response.statusCode !== 202) throw new Error(`ingest answered ${response.statusCode}: ${text}`);
      });
      return performance.now() - started;
    };
    const direct = async (batches: { key: string; value: string }[][]) => {
      const started = performance.now();
      await pool(batches, CONCURRENCY, async (messages) => {
        await producer.send({ topic: topics.runs, acks: -1, messages });
      });
      return performance.now() - started;
    };

    say(
      `ingest bench: ${N} runs (~${Buffer.byteLength(JSON.stringify(run(0)))} bytes each), ${batchSize} runs per request (GET /info size_limit), concurrency ${CONCURRENCY}, ${ROUNDS} rounds`,
    );
    const warm = prepare(WARMUP);
    await viaIngest(warm.bodies);
    await direct(warm.batches);
    // CPU per run of each process in each phase: the bench process is the HTTP client in one and the
    // kafkajs producer in the other; the broker (when the stack runs it) works in both.
    const brokerPid = stack.kafka === "external" ? undefined : pidFromFile(join(stack.stateDir, "kafka", "broker.pid"));
    const ingestPids = { ingest: child.pid, client: process.pid, broker: brokerPid };
    const directPids = { producer: process.pid, broker: brokerPid };
    const ingestRates: number[] = [];
    const directRates: number[] = [];
    const ratios: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const { bodies, batches } = prepare(N);
      const wire = bodies.reduce((n, b) => n + b.body.length, 0);
      // The two sides take turns going first, so neither always runs in the other's wake.
      let ingestMs = 0;
      let directMs = 0;
      let ingestCost = "";
      let directCost = "";
      const ingestSide = async () => {
        const cpu = readCpu(ingestPids);
        ingestMs = await viaIngest(bodies);
        ingestCost = cpuPerRun(cpu, readCpu(ingestPids), N);
      };
      const directSide = async () => {
        const cpu = readCpu(directPids);
        directMs = await direct(batches);
        directCost = cpuPerRun(cpu, readCpu(directPids), N);
      };
      if (round % 2 === 1) {
        await ingestSide();
        await directSide();
      } else {
        await directSide();
        await ingestSide();
      }
      ingestRates.push((N / ingestMs) * 1000);
      directRates.push((N / directMs) * 1000);
      ratios.push(ingestRates.at(-1)! / directRates.at(-1)!);
      say(
        `round ${round} (${round % 2 === 1 ? "ingest" : "direct"} first): ingest ${Math.round(ingestRates.at(-1)!)} runs/s (${(wire / 1024 / 1024).toFixed(1)} MiB gzip on the wire, ${(ingestMs / 1000).toFixed(2)} s); kafkajs direct ${Math.round(directRates.at(-1)!)} runs/s (${(directMs / 1000).toFixed(2)} s); ratio ${ratios.at(-1)!.toFixed(2)}; load ${loadavg()[0]!.toFixed(1)}`,
      );
      say(`  ingest ${ingestCost}`);
      say(`  direct ${directCost}`);
    }
    say(
      `median of the rounds: ingest ${Math.round(median(ingestRates))} runs/s, kafkajs direct ${Math.round(median(directRates))} runs/s, ratio ${median(ratios).toFixed(2)} (rounds ${ratios.map((r) => r.toFixed(2)).join(", ")}; target >= 0.7)`,
    );
    const metrics = await (await fetch(`${url}/metrics`)).text();
    say(
      `ingest produced ${/runhooks_ingest_runs_produced_total (\d+)/.exec(metrics)?.[1] ?? "?"} runs (expected ${N * ROUNDS + WARMUP})`,
    );
    say(
      `rerun: BENCH_RUNS=${N} BENCH_CONCURRENCY=${CONCURRENCY} BENCH_ROUNDS=${ROUNDS} BENCH_WARMUP_RUNS=${WARMUP} npm run bench:ingest`,
    );
    await producer.disconnect();
    await agent.close();
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    // Each run writes ~150 MB; left behind, runs pile up in the broker and slow the next ones down.
    const admin = kafka.admin();
    await admin
      .connect()
      .then(() => admin.deleteTopics({ topics: [topics.runs] }))
      .catch((error: unknown) => say(`could not delete the bench topic ${topics.runs}: ${String(error)}`))
      .finally(() => admin.disconnect());
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
