import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { startApi, type RunningApi } from "@runhooks/api";
import { startBackfillService } from "@runhooks/backfill";
import { sql } from "@runhooks/db";
import { ensureTopics, topicNames, topicSpecs } from "@runhooks/kafka";
import { DEFAULT_TRACE_LIMITS } from "@runhooks/rules";
import type { Admin, Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eventually, makeRun } from "../../delivery/test/harness.js";
import {
  createTestDatabase,
  testKafka,
  uniquePrefix,
  type TestDatabase,
  TEST_SECRETS,
  TEST_SECRETS_KEY,
} from "../../../test/support/stack.js";

/**
 * A backfill whose process is SIGKILLed three times, each time once its recorded progress passed a
 * quarter more of the range, makes the windows an uninterrupted backfill of the same range makes: the
 * same bounds, chunks and runs in the same order. Two rules with one definition are backfilled over the
 * same range, one in this process uninterrupted, the other by `runhooks-backfill` processes killed and
 * started again (each resumes once the killed one's lease expired). Nothing is delivered: the windows
 * are compared as stored.
 */

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

describe("a backfill killed three times", () => {
  const prefix = uniquePrefix("backfill-crash");
  const topics = topicNames(prefix);
  const adminKey = `admin-${randomBytes(12).toString("hex")}`;
  const kafka = testKafka("backfill-crash");
  let database: TestDatabase;
  let api: RunningApi;
  let producer: Producer;
  let admin: Admin;
  let tenant: { id: string; key: string };
  let child: ChildProcess | undefined;

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${api.url}${path}`, {
      method,
      headers: { "x-api-key": tenant.key, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: await response.json() };
  }

  async function rule(name: string): Promise<string> {
    const created = await call("POST", "/rules", {
      display_name: name,
      // 1: sampling is keyed by the rule id, and the two rules must judge alike.
      sampling_rate: 1,
      filter: { "==": [{ var: "status" }, "error"] },
      window: { seconds: 1, max_runs: 9 },
      webhooks: [{ url: `http://127.0.0.1:9/${name}` }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return (created.body as { rule: { id: string } }).rule.id;
  }

  const progress = async (backfillId: string) =>
    (
      (await database.db.query(
        sql`SELECT state, runs_read::int AS read, runs_total::int AS total, fencing_token::int AS token FROM backfills WHERE id = ${backfillId}`,
      )) as { state: string; read: number; total: number; token: number }[]
    )[0]!;

  /** The rule's stored windows, comparable across rules: bounds, chunk, runs in order. */
  async function windows(ruleId: string) {
    const rows = (await database.db.query(sql`
      SELECT start_time, end_time, chunk_index, chunk_count, payload FROM delivery_windows
      WHERE rule_id = ${ruleId} ORDER BY start_time, chunk_index`)) as {
      start_time: Date;
      end_time: Date;
      chunk_index: number;
      chunk_count: number;
      payload: string;
    }[];
    return rows.map((r) => ({
      start: r.start_time.toISOString(),
      end: r.end_time.toISOString(),
      chunk: `${r.chunk_index}/${r.chunk_count}`,
      runs: (JSON.parse(r.payload) as { runs: { id: string }[] }).runs.map((run) => run.id),
    }));
  }

  function spawnBackfill(): ChildProcess {
    return spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        KAFKA_BROKERS: inject("kafkaBrokers").join(","),
        RUNHOOKS_SECRETS_KEY: TEST_SECRETS_KEY,
        DATABASE_URL: database.url,
        RUNHOOKS_TOPIC_PREFIX: prefix,
        RUNHOOKS_INSTANCE_ID: `crash-${randomBytes(3).toString("hex")}`,
        RUNHOOKS_BACKFILL_MAX_RUNS_PER_S: "1500",
        RUNHOOKS_BACKFILL_LEASE_MS: "1000",
        RUNHOOKS_BACKFILL_POLL_MS: "100",
        RUNHOOKS_BACKFILL_FETCH_BYTES: "8192",
        RUNHOOKS_BACKFILL_NICE: "0",
        RUNHOOKS_EVALUATOR_GROUP: `${prefix}-evaluator`,
        RUNHOOKS_LOG_LEVEL: "error",
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
  }

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topicSpecs({ prefix, runsPartitions: 2, deliveryPartitions: 2 }));
    producer = kafka.producer();
    await producer.connect();
    database = await createTestDatabase("backfill_crash");
    api = await startApi({
      databaseUrl: database.url,
      secrets: TEST_SECRETS,
      kafkaBrokers: inject("kafkaBrokers"),
      topicPrefix: prefix,
      port: 0,
      adminKey,
      relay: { pollIntervalMs: 100, retryDelayMs: 200 },
      ruleErrors: false,
    });
    const created = await fetch(`${api.url}/admin/tenants`, {
      method: "POST",
      headers: { "x-api-key": adminKey, "content-type": "application/json" },
      body: JSON.stringify({ name: "crash" }),
    });
    const answer = (await created.json()) as { tenant: { id: string }; api_key: { key: string } };
    tenant = { id: answer.tenant.id, key: answer.api_key.key };
  }, 120_000);

  afterAll(async () => {
    child?.kill("SIGKILL");
    await api?.close();
    await producer?.disconnect();
    await admin?.disconnect();
    await database?.drop();
  });

  it("makes the windows of an uninterrupted backfill", async () => {
    const from = new Date(Date.now() - 1000).toISOString();
    // Runs until the log itself says they span five windows (the broker's append times, acknowledged).
    let first: number | undefined;
    let last = 0;
    let n = 0;
    while (first === undefined || last - first < 5000) {
      const runs = Array.from({ length: 20 }, (_, i) =>
        makeRun(tenant.id, { status: i % 3 === 2 ? "success" : "error" }),
      );
      const acks = await producer.send({
        topic: topics.runs,
        acks: -1,
        messages: runs.map((r, i) => ({ partition: (n + i) % 2, key: r.id, value: JSON.stringify(r) })),
      });
      n += runs.length;
      // Paced (~800 runs/s), so that how many runs there are does not follow how fast this machine
      // produces: a quarter of them stays a few seconds of the backfill's 1,500 runs/s (at full speed a
      // machine writes ~135,000 in 5 s, and a quarter takes most of the 60 s the test waits for it).
      await new Promise((r) => setTimeout(r, 25));
      for (const a of acks) {
        const t = Number(a.logAppendTime);
        if (t > 0) {
          first ??= t;
          last = Math.max(last, t);
        }
      }
    }
    const to = new Date(last + 1).toISOString();
    const calm = await rule("uninterrupted");
    const killed = await rule("killed");

    // The reference: one process, never interrupted.
    const reference = await call("POST", `/rules/${calm}/backfill`, { from, to });
    expect(reference.status, JSON.stringify(reference.body)).toBe(202);
    const referenceId = (reference.body as { id: string }).id;
    const service = await startBackfillService({
      brokers: inject("kafkaBrokers"),
      databaseUrl: database.url,
      secrets: TEST_SECRETS,
      topicPrefix: prefix,
      instanceId: "crash-reference",
      maxRunsPerS: 20_000,
      maxLiveLag: 1_000_000,
      leaseMs: 2_000,
      pollMs: 100,
      evaluatorGroup: `${prefix}-evaluator`,
      maxRunBytes: 512 * 1024,
      maxRunDepth: 256,
      traceHorizonSeconds: 300,
      traceLimits: DEFAULT_TRACE_LIMITS,
      migrate: false,
      log: () => undefined,
    });
    await eventually("the reference backfill", async () => (await progress(referenceId)).state === "succeeded", 60_000);
    await service.stop();
    const expected = await windows(calm);
    expect(expected.length).toBeGreaterThanOrEqual(5);

    // The same range for the other rule, in processes killed at 1/4, 2/4 and 3/4 of the recorded progress.
    const started = await call("POST", `/rules/${killed}/backfill`, { from, to });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const killedId = (started.body as { id: string }).id;
    for (let k = 1; k <= 3; k++) {
      child = spawnBackfill();
      const exited = new Promise((resolve) => child!.once("exit", resolve));
      await eventually(
        `progress past ${k}/4`,
        async () => {
          const p = await progress(killedId);
          return p.total > 0 && p.read >= (p.total * k) / 4;
        },
        60_000,
      );
      child.kill("SIGKILL");
      await exited;
    }
    child = spawnBackfill();
    await eventually("the killed backfill", async () => (await progress(killedId)).state === "succeeded", 90_000);
    child.kill("SIGTERM");
    const p = await progress(killedId);
    // Four owners, one after another: each resumed the one before from its checkpoint.
    expect(p.token).toBeGreaterThanOrEqual(4);
    expect(await windows(killed)).toEqual(expected);
  }, 300_000);
});
