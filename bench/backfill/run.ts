// Backfill rate: runs/s one backfill process judges from the runs topic (one rule, 1 s windows, ~1.5 KB
// runs already in the topic), from its claim to its end, windows stored in Postgres included.
//
//   npm run bench:backfill                  (BENCH_RUNS=100000 by default)
//
// Target: at least half of `npm run bench:evaluator`'s one-rule rate (its "1 rule" row), run on the
// same machine. The live p99 run → webhook at 2,000 runs/s while a 1,000,000-run backfill proceeds
// (target: window + 500 ms) is not measured by this script.
//
// Starts (or reuses) the local Kafka and PostgreSQL like the tests do, and stops what it started.
import { randomUUID } from "node:crypto";
import { startBackfillService } from "@runhooks/backfill";
import {
  connectDatabase,
  createBackfill,
  createTenant,
  generateSecretKey,
  getBackfill,
  migrate,
  parseSecretKeys,
  saveRule,
  sql,
} from "@runhooks/db";
import { readInfraEnv, startStack } from "@runhooks/infra";
import { createKafka, ensureTopics, topicNames, topicSpecs } from "@runhooks/kafka";
import { DEFAULT_TRACE_LIMITS } from "@runhooks/rules";
import { deleteBenchTopics } from "../support/bench-topics.js";

const N = Number(process.env["BENCH_RUNS"] ?? 100_000);
const PARTITIONS = 6;
const say = (line: string) => console.log(line);

function run(i: number, tenantId: string): string {
  const id = randomUUID();
  const start = Date.now() - 2000 - (i % 5000);
  return JSON.stringify({
    id,
    trace_id: id,
    name: i % 3 === 0 ? "ChatOpenAI" : "RetrievalQA",
    run_type: i % 3 === 0 ? "llm" : "chain",
    status: i % 10 === 0 ? "error" : "success",
    error: i % 10 === 0 ? "RateLimitError: too many requests" : null,
    start_time: new Date(start).toISOString(),
    end_time: new Date(start + (i % 7000)).toISOString(),
    tenant_id: tenantId,
    session_id: "6a3be6a2-9a8c-4fc8-b4c6-a8983b286cc5",
    dotted_order: `20240405T012854085646Z${id}`,
    is_root: true,
    tags: [`tag-${i % 20}`, "bench"],
    extra: { metadata: { env: i % 2 ? "prod" : "staging", ls_model_name: "gpt-4o-mini" } },
    inputs: { messages: [{ role: "user", content: "Summarise the quarterly report for the board. ".repeat(8) }] },
    outputs: { generations: [{ text: "The quarter closed with revenue up and costs flat. ".repeat(8) }] },
    total_tokens: i % 2000,
  });
}

const stack = await startStack(readInfraEnv(), (l) => say(`[stack] ${l}`));
try {
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const names = topicNames(prefix);
  const kafka = createKafka({ brokers: stack.brokers, clientId: "bench", logLevel: "error", logger: () => undefined });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topicSpecs({ prefix, runsPartitions: PARTITIONS }));
  // A database of its own on the stack's server, dropped at the end.
  const server = new URL(stack.databaseUrl);
  server.pathname = "/postgres";
  const serverDb = connectDatabase({ url: server.toString(), poolSize: 1 });
  const dbName = `bench_backfill_${randomUUID().slice(0, 8)}`;
  await serverDb.query(sql`CREATE DATABASE ${sql.ident(dbName)}`);
  const dbUrl = new URL(stack.databaseUrl);
  dbUrl.pathname = `/${dbName}`;
  const keys = parseSecretKeys(generateSecretKey());
  if (!keys.ok) throw new Error(keys.message);
  const db = connectDatabase({ url: dbUrl.toString(), poolSize: 2, secrets: keys.keyring });
  await migrate(db);
  const tenant = await createTenant(db, { name: `bench-${prefix}` });
  if (!tenant.ok) throw new Error("could not create the bench tenant");
  const tenantId = tenant.tenant.id;

  const from = new Date(Date.now() - 1000);
  const producer = kafka.producer();
  await producer.connect();
  for (let i = 0; i < N; i += 1000) {
    const messages = Array.from({ length: Math.min(1000, N - i) }, (_, k) => ({
      partition: (i + k) % PARTITIONS,
      value: run(i + k, tenantId),
    }));
    await producer.send({ topic: names.runs, acks: -1, messages });
  }
  await producer.disconnect();
  const to = new Date(Date.now() + 1);

  const saved = await saveRule(db, {
    tenantId,
    mode: "create",
    rule: {
      id: randomUUID(),
      display_name: "bench errors",
      tenant_id: tenantId,
      enabled: true,
      filter: { "==": [{ var: "status" }, "error"] },
      sampling_rate: 1,
      window: { seconds: 1, max_runs: 100 },
      webhooks: [{ url: "https://receiver.invalid/hook", headers: {} }],
    },
  });
  if (!saved.ok) throw new Error(`could not save the rule: ${saved.reason}`);
  const created = await createBackfill(db, {
    id: randomUUID(),
    tenantId,
    ruleId: saved.record.rule.id,
    ruleVersion: saved.record.version,
    from,
    to,
  });
  let done!: () => void;
  const ended = new Promise<void>((resolve) => (done = resolve));
  const service = await startBackfillService({
    brokers: stack.brokers,
    databaseUrl: dbUrl.toString(),
    secrets: keys.keyring,
    topicPrefix: prefix,
    instanceId: "bench",
    maxRunsPerS: 1_000_000_000,
    maxLiveLag: Number.MAX_SAFE_INTEGER,
    leaseMs: 15_000,
    pollMs: 50,
    evaluatorGroup: `${prefix}-evaluator`,
    maxRunBytes: 512 * 1024,
    maxRunDepth: 256,
    traceHorizonSeconds: 300,
    traceLimits: DEFAULT_TRACE_LIMITS,
    migrate: false,
    log: () => undefined,
    onRunEnd: () => done(),
  });
  await ended;
  await service.stop();
  const b = (await getBackfill(db, created.backfill.id))!;
  const seconds = (b.finishedAt!.getTime() - b.startedAt!.getTime()) / 1000;
  const stored = (await db.query(sql`SELECT count(*)::int AS n FROM delivery_windows WHERE backfill_id = ${b.id}`)) as {
    n: number;
  }[];
  await db.dispose();
  await serverDb.query(sql`DROP DATABASE IF EXISTS ${sql.ident(dbName)} WITH (FORCE)`);
  await serverDb.dispose();
  await admin.disconnect();
  await deleteBenchTopics(stack.brokers, prefix);
  say("");
  say(`backfill: ${b.state}, ${b.runsRead} of ${b.runsTotal} messages read in ${seconds.toFixed(2)} s (claim to end)`);
  say(`rate: ${Math.round(b.runsRead / seconds).toLocaleString("en-US")} runs/s; ${stored[0]!.n} windows stored`);
  say("target: at least half of bench:evaluator's one-rule rate on the same machine (run npm run bench:evaluator)");
  say(`rerun: BENCH_RUNS=${N} npm run bench:backfill`);
} finally {
  await stack.stop();
}
