// Delivery throughput: successful deliveries per second through the delivery service — windows read
// from Kafka, deliveries stored, claimed, POSTed (signed), every attempt recorded in Postgres and
// published to the attempts topic — next to raw undici POSTs of the same payloads to the same
// receiver in the same run.
//
//   npm run bench:delivery        (BENCH_ROUNDS=3 rounds of BENCH_WINDOWS=20000 after BENCH_WARMUP=5000, BENCH_RULES=8,
//                                 BENCH_CONCURRENCY=64 by default; the figure is the median round)
//   BENCH_CPU_PROFILE=dir npm run bench:delivery   also writes dir/delivery.cpuprofile (the service's run)
//   BENCH_HEAP_PROFILE=dir npm run bench:delivery  also writes dir/delivery.heapprofile (allocations, main thread)
//   BENCH_HTTP_THREAD=0 npm run bench:delivery     POSTs on the service's main event loop instead
//   BENCH_THREADS=1 npm run bench:delivery         CPU per delivery of every thread of the process too
//   BENCH_PREFILL=1000000 npm run bench:delivery   first fills the tables with that many settled deliveries
//                                                  (a service that has run for a while; bodies left short)
//   BENCH_BUNDLED=0 npm run bench:delivery         publishes each part as a message of its own instead of
//                                                  bundles per windows partition (as the evaluator does)
//
// Starts (or reuses) the local Kafka and Postgres like the tests do, and stops what it started. The
// receiver runs in a child process of its own.
import { spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { cpus } from "node:os";
import { Agent } from "undici";
import { Rule } from "@runhooks/contracts";
import {
  connectDatabase,
  createTenant,
  generateSecretKey,
  migrate,
  parseSecretKeys,
  saveRule,
  sql,
  type Database,
} from "@runhooks/db";
import { startDelivery } from "@runhooks/delivery";
import { readInfraEnv, startStack } from "@runhooks/infra";
import { createKafka, ensureTopics, topicNames, topicSpecs } from "@runhooks/kafka";
import { costProbe } from "./cost.js";
import { deleteBenchTopics } from "../support/bench-topics.js";
import { allocationProfile, cpuProfile } from "../support/cpu-profile.js";
import { median } from "../support/stats.js";

const N = Number(process.env["BENCH_WINDOWS"] ?? 20_000);
/**
 * Windows sent before the measured ones, by the service and by raw undici alike: the JIT compiles the
 * hot paths (on this machine, seconds of CPU) while they run, so measuring from a cold start mostly
 * measured the compiler; a long-running service pays that once.
 */
const WARMUP = Number(process.env["BENCH_WARMUP"] ?? 5_000);
/**
 * Measured spans of N windows each, back to back in one run of the service; the figure is the median.
 * This machine's speed moves by ±10–25% from one minute to the next (the raw POSTs' rate with it), so
 * one span was as much a reading of the machine as of the service.
 */
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 3);
const MEASURED = ROUNDS * N;
const TOTAL = WARMUP + MEASURED;
const CONCURRENCY = Number(process.env["BENCH_CONCURRENCY"] ?? 64);
/** Windows are keyed by rule id: several rules spread them over the topic's partitions. */
const RULES = Number(process.env["BENCH_RULES"] ?? 8);
/** Settled deliveries (window, delivery, attempt) in the tables before the service starts. */
const PREFILL = Number(process.env["BENCH_PREFILL"] ?? 0);
const BUNDLED = process.env["BENCH_BUNDLED"] !== "0";

/** Parts as the evaluator publishes them: one bundle (WindowPartBundle) per windows and runs partition. */
function bundles(parts: readonly { part: Record<string, unknown>; partition: number }[]) {
  const groups = new Map<string, { partition: number; runsPartition: number; parts: Record<string, unknown>[] }>();
  for (const { part, partition } of parts) {
    const runsPartition = part["runs_partition"] as number;
    const key = `${partition}/${runsPartition}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { partition, runsPartition, parts: [] }));
    g.parts.push(part);
  }
  return [...groups.values()].map((g) => {
    const runs: unknown[] = [];
    const times: number[] = [];
    const entries = g.parts.map(({ runs: partRuns, run_times: partTimes, ...head }) => ({
      ...head,
      run_refs: (partRuns as unknown[]).map((r, k) => {
        times.push((partTimes as number[])[k]!);
        return runs.push(r) - 1;
      }),
    }));
    const value = JSON.stringify({
      schema_version: 1,
      runs_partition: g.runsPartition,
      parts: entries,
      run_times: times,
      runs,
    });
    return { partition: g.partition, value, headers: { "runhooks-kind": "parts" } };
  });
}
const say = (line: string) => console.log(line);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const RECEIVER = `
  const http = require("node:http");
  let n = 0;
  const server = http.createServer((req, res) => {
    req.on("data", () => {});
    req.on("end", () => { n++; res.writeHead(200, { "content-type": "text/plain", "content-length": "2" }).end("ok"); });
  });
  server.keepAliveTimeout = 30000;
  server.listen(0, "127.0.0.1", () => console.log(server.address().port));
  process.on("SIGTERM", () => { console.error("receiver: " + n + " requests"); process.exit(0); });
`;

function run(tenantId: string, i: number) {
  const id = randomUUID();
  const start = Date.now() - 2000 - (i % 5000);
  return {
    id,
    trace_id: id,
    name: "ChatOpenAI",
    run_type: "llm",
    status: "error",
    error: "RateLimitError: too many requests",
    start_time: new Date(start).toISOString(),
    end_time: new Date(start + (i % 7000)).toISOString(),
    tenant_id: tenantId,
    session_id: "6a3be6a2-9a8c-4fc8-b4c6-a8983b286cc5",
    dotted_order: `20240405T012854085646Z${id}`,
    is_root: true,
    tags: [`tag-${i % 20}`, "bench"],
    extra: { metadata: { env: "prod", customer: `c-${i % 50}`, ls_model_name: "gpt-4o-mini" } },
    inputs: { messages: [{ role: "user", content: "Summarise the quarterly report for the board. ".repeat(6) }] },
    outputs: { generations: [{ text: "The quarter closed with revenue up and costs flat. ".repeat(6) }] },
    total_tokens: i % 2000,
  };
}

/**
 * The tables of a service that has delivered `PREFILL` windows already: one settled delivery and one
 * attempt per window, random ids (delivery ids are UUIDv5, as random to an index), then vacuumed and
 * analysed as autovacuum would have. Bodies are left short: the window table only ever appends, so
 * their size does not change what a new row costs.
 */
async function prefill(
  db: Database,
  tenantId: string,
  rule: { id: string; version: number },
  origin: string,
): Promise<void> {
  const t0 = performance.now();
  const url = `${origin}/hook?secret=***`;
  const chunk = 100_000;
  for (let done = 0; done < PREFILL; done += chunk) {
    const n = Math.min(chunk, PREFILL - done);
    await db.query(sql`
      WITH w AS (
        INSERT INTO delivery_windows (window_id, tenant_id, rule_id, rule_version, start_time, end_time, run_count, webhook_count, payload, received_at)
        SELECT gen_random_uuid(), ${tenantId}, ${rule.id}, ${rule.version}, now() - interval '1 day' + g * interval '5 ms',
          now() - interval '1 day' + g * interval '5 ms' + interval '5 s', 2, 1, '{}', now() - interval '1 day'
        FROM generate_series(${done}::int, ${done + n - 1}::int) g
        RETURNING window_id, start_time
      ), d AS (
        INSERT INTO deliveries (id, window_id, webhook_id, tenant_id, rule_id, rule_version, url, origin, trace_id, status, attempts,
          round_attempts, last_outcome, last_status_code, created_at, updated_at, completed_at)
        SELECT gen_random_uuid(), window_id, gen_random_uuid(), ${tenantId}, ${rule.id}, ${rule.version}, ${url}, ${origin},
          md5(window_id::text), 'succeeded', 1, 1, 'success', 200, start_time, start_time, start_time
        FROM w
        RETURNING id, created_at
      )
      INSERT INTO delivery_attempts (delivery_id, attempt, trigger, started_at, duration_ms, outcome, status_code, url, recorded_at, published_at)
      SELECT id, 1, 'scheduled', created_at, 12.5, 'success', 200, ${url}, created_at, created_at FROM d`);
    say(`  prefilled ${done + n} of ${PREFILL} settled deliveries (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  await db.query(sql`VACUUM (ANALYZE) delivery_windows, deliveries, delivery_attempts`);
  say(
    `prefill:               ${PREFILL} settled deliveries in the tables before the service starts (${((performance.now() - t0) / 1000).toFixed(0)} s, vacuumed)`,
  );
}

async function main(): Promise<void> {
  const stack = await startStack(readInfraEnv(), (line) => say(`[stack] ${line}`));
  const receiver = spawn(process.execPath, ["-e", RECEIVER], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const port = await new Promise<number>((resolve) =>
      receiver.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))),
    );
    const origin = `http://127.0.0.1:${port}`;

    // A database and topics of the bench's own.
    const name = `rh_bench_delivery_${randomBytes(4).toString("hex")}`;
    const serverUrl = new URL(stack.databaseUrl);
    const adminUrl = new URL(serverUrl);
    adminUrl.pathname = "/postgres";
    const admin = connectDatabase({ url: adminUrl.toString(), poolSize: 1 });
    await admin.query(sql`CREATE DATABASE ${sql.ident(name)}`);
    const dbUrl = new URL(serverUrl);
    dbUrl.pathname = `/${name}`;
    const keys = parseSecretKeys(generateSecretKey());
    if (!keys.ok) throw new Error(keys.message);
    const db = connectDatabase({ url: dbUrl.toString(), poolSize: 2, secrets: keys.keyring });
    const prefix = `bench-delivery-${randomBytes(4).toString("hex")}`;
    try {
      await migrate(db);
      const tenant = await createTenant(db, { name: "bench" });
      if (!tenant.ok) throw new Error("tenant");
      const tenantId = tenant.tenant.id;
      const rules: { id: string; version: number }[] = [];
      for (let r = 0; r < RULES; r++) {
        const rule = Rule.parse({
          id: randomUUID(),
          tenant_id: tenantId,
          display_name: `bench ${r}`,
          filter: { "==": [{ var: "status" }, "error"] },
          webhooks: [
            {
              url: `${origin}/hook?secret=bench-secret`,
              headers: { "x-team": "bench" },
              signing_secret: `whsec_${randomBytes(24).toString("base64")}`,
            },
          ],
        });
        const saved = await saveRule(db, { tenantId, rule, mode: "create" });
        if (!saved.ok) throw new Error(saved.reason);
        rules.push({ id: rule.id, version: saved.record.version });
      }
      if (PREFILL > 0) await prefill(db, tenantId, rules[0]!, origin);

      const kafka = createKafka({ brokers: stack.brokers, clientId: "bench-delivery", logger: () => undefined });
      const kadmin = kafka.admin();
      await kadmin.connect();
      await ensureTopics(kadmin, topicSpecs({ prefix, deliveryPartitions: 6 }));
      const topics = topicNames(prefix);

      // The windows: 2 runs each (~3 KB bodies), produced before the service starts, as the evaluators
      // publish them: a part each (from one runs partition), bundled per windows and runs partition, and
      // after every 200 the watermarks of every runs partition past them, which complete them.
      const runsPartitions = (await kadmin.fetchTopicMetadata({ topics: [topics.runs] })).topics[0]!.partitions.length;
      const windowsPartitions = (
        await kadmin.fetchTopicMetadata({ topics: [topics.windows] })
      ).topics[0]!.partitions.map((p) => p.partitionId);
      await kadmin.disconnect();
      const parts: { key: string; value: string; part: Record<string, unknown>; partition: number }[] = [];
      const bodies: Buffer[] = [];
      const base = Date.now() - TOTAL * 5;
      for (let i = 0; i < TOTAL; i++) {
        const rule = rules[i % RULES]!;
        const [startMs, endMs] = [base + i * 5, base + i * 5 + 5];
        const runs = [run(tenantId, 2 * i), run(tenantId, 2 * i + 1)];
        const head = {
          rule_id: rule.id,
          start_time: new Date(startMs).toISOString(),
          end_time: new Date(endMs).toISOString(),
        };
        const part = {
          schema_version: 1,
          part_id: randomUUID(),
          ...head,
          rule_version: rule.version,
          tenant_id: tenantId,
          max_runs: 100,
          runs_partition: i % runsPartitions,
          piece: 0,
          runs,
          run_times: [startMs, startMs],
        };
        const partition = windowsPartitions[(i % RULES) % windowsPartitions.length]!;
        parts.push({ key: rule.id, value: JSON.stringify(part), part, partition });
        bodies.push(Buffer.from(JSON.stringify({ ...head, runs })));
      }
      const producer = kafka.producer();
      await producer.connect();
      // Batches well under the broker's 1 MB request limit.
      for (let i = 0; i < TOTAL; i += 200) {
        const streamTime = base + Math.min(TOTAL, i + 200) * 5;
        await producer.send({
          topic: topics.windows,
          acks: -1,
          messages: BUNDLED
            ? bundles(parts.slice(i, i + 200))
            : parts.slice(i, i + 200).map((m) => ({
                key: m.key,
                value: m.value,
                partition: m.partition,
                headers: { "runhooks-kind": "part" },
              })),
        });
        await producer.send({
          topic: topics.windows,
          acks: -1,
          messages: Array.from({ length: runsPartitions }, (_, p) =>
            windowsPartitions.map((partition) => ({
              partition,
              key: `__watermark__/${p}`,
              value: JSON.stringify({ schema_version: 1, runs_partition: p, stream_time: streamTime }),
              headers: { "runhooks-kind": "watermark" },
            })),
          ).flat(),
        });
      }
      await producer.disconnect();
      say(
        `${ROUNDS} × ${N} windows (after ${WARMUP} to warm up) of ~${Math.round(bodies.reduce((n, b) => n + b.length, 0) / TOTAL)} bytes from ${RULES} rules in ${topics.windows} (6 partitions); receiver ${origin}; ${cpus().length} CPUs`,
      );

      // 1. Raw undici POSTs of the same payloads, same receiver, same concurrency.
      const probe = await costProbe(db, stack.stateDir, receiver.pid);
      const agent = new Agent({ connections: CONCURRENCY, pipelining: 1, keepAliveTimeout: 4000 });
      const post = async (from: number, to: number) => {
        let next = from;
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (next < to) {
              const body = bodies[next++]!;
              const res = await agent.request({
                origin,
                path: "/hook?secret=bench-secret",
                method: "POST",
                headers: { "content-type": "application/json" },
                body,
              });
              await res.body.dump();
              if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
            }
          }),
        );
      };
      await post(0, WARMUP);
      const rawBefore = await probe.sample();
      const t0 = performance.now();
      await post(WARMUP, TOTAL);
      const rawSeconds = (performance.now() - t0) / 1000;
      await agent.close();
      const rawRate = MEASURED / rawSeconds;
      const rawCpu = probe.cpu(rawBefore, await probe.sample(), MEASURED);
      say(
        `raw undici POSTs:      ${MEASURED} in ${rawSeconds.toFixed(2)} s = ${Math.round(rawRate)} requests/s (concurrency ${CONCURRENCY})`,
      );

      // 2. The delivery service, every attempt recorded and published.
      const whole = await probe.sample();
      const delivery = await startDelivery({
        secrets: keys.keyring,
        brokers: stack.brokers,
        databaseUrl: dbUrl.toString(),
        topicPrefix: prefix,
        groupId: `${prefix}-delivery`,
        instanceId: "bench",
        allowCidrs: ["127.0.0.1/32"],
        // One origin, so at most CONCURRENCY in flight to the receiver, as the raw POSTs had. The process-wide
        // limit is the service's default (512), as a user gets it: it also sizes how many deliveries the
        // workers hold (twice as many): more than the one lane can, so windows find room in it rather
        // than go through the pending queue and a claim.
        originConcurrency: CONCURRENCY,
        httpThread: process.env["BENCH_HTTP_THREAD"] !== "0",
        log: (level, message, fields) => {
          if (level === "error" || level === "warn")
            say(`[delivery] ${level} ${message} ${JSON.stringify(fields ?? {})}`);
        },
      });
      const wallStart = performance.now();
      const delivered = (n: number) =>
        delivery.counters.deliveriesFinal.succeeded >= n && delivery.counters.attemptsPublished >= n;
      let before = whole;
      /** When the warm-up, then each round, was delivered. */
      const marks: number[] = [];
      let profiler = await cpuProfile("");
      let allocations = await allocationProfile("");
      try {
        // Polls the service's own counters (in process, cheap): counting rows every 100 ms cost
        // Postgres as much CPU as a tenth of the deliveries did. The rows are checked once at the end.
        while (!delivered(WARMUP)) {
          if (performance.now() - wallStart > 600_000)
            throw new Error(
              `timed out warming up: ${delivery.counters.deliveriesFinal.succeeded} of ${WARMUP} delivered`,
            );
          await sleep(5);
        }
        before = await probe.sample();
        marks.push(performance.now());
        profiler = await cpuProfile();
        allocations = await allocationProfile();
        let reported = marks[0]!;
        while (!delivered(TOTAL)) {
          if (delivered(WARMUP + marks.length * N)) marks.push(performance.now());
          if (performance.now() - wallStart > 600_000)
            throw new Error(`timed out: ${delivery.counters.deliveriesFinal.succeeded} of ${TOTAL} delivered`);
          if (process.env["BENCH_PROGRESS"] !== undefined && performance.now() - reported > 1000) {
            reported = performance.now();
            const c = delivery.counters;
            say(
              `  ${((reported - wallStart) / 1000).toFixed(1)} s: stored ${c.deliveriesCreated}, attempts ${c.attempts.success ?? 0}, published ${c.attemptsPublished}`,
            );
          }
          await sleep(5);
        }
        while (marks.length <= ROUNDS) marks.push(performance.now());
      } finally {
        await profiler.stop("delivery");
        await allocations.stop("delivery");
      }
      const after = await probe.sample();
      await delivery.stop();
      const [row] = (await db.query(sql`
        SELECT (SELECT count(*) FROM deliveries WHERE status = 'succeeded')::int AS ok,
          (SELECT count(*) FROM delivery_attempts WHERE published_at IS NOT NULL)::int AS published,
          (SELECT count(*) FROM delivery_attempts)::int AS attempts`)) as {
        ok: number;
        published: number;
        attempts: number;
      }[];
      // Prefilled deliveries count as succeeded and published: only the rest are this run's.
      if (row!.ok - PREFILL < TOTAL || row!.published - PREFILL < TOTAL)
        throw new Error(`the counters said done, the rows did not: ${JSON.stringify(row)}`);
      // Backends flush their statistics when they close (the service's pool just did) or within 1 s:
      // row writes and transactions are counted over the whole run, warm-up included.
      await sleep(1500);
      const rows = probe.report(whole, await probe.sample(), TOTAL).slice(0, 2);
      const rates = marks.slice(1).map((end, r) => N / ((end - marks[r]!) / 1000));
      const rate = median(rates);
      say(
        `delivery service:      ${Math.round(rate)} deliveries/s (median of ${ROUNDS} rounds of ${N} successful deliveries after ${WARMUP}: ` +
          `${rates.map((r) => Math.round(r)).join(", ")}; ${row!.attempts - PREFILL} attempts in all, each a row and a message)`,
      );
      say(`ratio:                 ${(rate / rawRate).toFixed(2)} of raw undici`);
      for (const line of rows) say(line);
      say(`CPU per delivery:      ${probe.cpu(before, after, MEASURED)}`);
      say(`CPU per raw POST:      ${rawCpu} (the floor under any delivery)`);
      say(`target:                ≥ 5000 deliveries/s (median round) — ${rate >= 5000 ? "met" : "NOT met"}`);
      say(
        `command:               ${PREFILL > 0 ? `BENCH_PREFILL=${PREFILL} ` : ""}BENCH_ROUNDS=${ROUNDS} BENCH_WINDOWS=${N} BENCH_WARMUP=${WARMUP} BENCH_CONCURRENCY=${CONCURRENCY} BENCH_RULES=${RULES}` +
          `${process.env["BENCH_HTTP_THREAD"] === "0" ? " BENCH_HTTP_THREAD=0" : ""} npm run bench:delivery`,
      );
    } finally {
      await db.dispose();
      await admin.query(sql`DROP DATABASE IF EXISTS ${sql.ident(name)} WITH (FORCE)`);
      await admin.dispose();
      await deleteBenchTopics(stack.brokers, prefix);
    }
  } finally {
    receiver.kill("SIGTERM");
    await stack.stop();
  }
}

await main();
