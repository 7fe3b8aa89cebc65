// Backfill rate: runs/s one backfill process judges from the runs topic alone (one rule, 1 s windows,
// ~1.5 KB runs already in the topic), from its claim to its end, windows stored in Postgres included;
// neither the throttle nor the live lag hold it back here.
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
import type { Stack } from "@runhooks/infra";
import { createKafka, ensureTopics, topicNames, topicSpecs } from "@runhooks/kafka";
import { DEFAULT_TRACE_LIMITS } from "@runhooks/rules";
import { deleteBenchTopics } from "../support/bench-topics.js";
import { backfillRule, producePastRuns } from "./past-runs.js";

const PARTITIONS = 6;

export async function measureRate(stack: Stack, n: number, say: (line: string) => void): Promise<void> {
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

  const { from, to } = await producePastRuns(kafka, names.runs, PARTITIONS, n, tenantId);

  const saved = await saveRule(db, {
    tenantId,
    mode: "create",
    rule: { id: randomUUID(), tenant_id: tenantId, ...backfillRule("https://receiver.invalid/hook") },
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
}
