import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { startApi, type RunningApi } from "@runhooks/api";
import { WebhookPayload, type Run } from "@runhooks/contracts";
import { sql } from "@runhooks/db";
import { startDelivery, type Delivery } from "@runhooks/delivery";
import { repoRoot } from "@runhooks/infra";
import { ensureTopics, topicNames, topicSpecs } from "@runhooks/kafka";
import type { Admin, Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eventually, makeRun } from "../services/delivery/test/harness.js";
import { reply, startReceiver, type Received, type Receiver } from "../services/delivery/test/receiver.js";
import { createTestDatabase, testKafka, uniquePrefix, type TestDatabase, TEST_SECRETS } from "./support/stack.js";

/**
 * A window is one rule's over the whole runs topic, whatever the partitions and evaluators: the real
 * API (rules), two evaluator processes in one group over six runs partitions, and the delivery service
 * (in this process), to a real receiver. Decided by events: what the receiver got, what delivery stored.
 */

const RUNS_PARTITIONS = 6;
const WINDOW_SECONDS = 5;

interface Post {
  readonly received: Received;
  readonly payload: WebhookPayload;
  readonly chunk: readonly [string | undefined, string | undefined];
}

describe("merged windows", () => {
  const prefix = uniquePrefix("merged");
  const topics = topicNames(prefix);
  const adminKey = `admin-${randomBytes(12).toString("hex")}`;
  const kafka = testKafka("merged");
  let database: TestDatabase;
  let api: RunningApi;
  let delivery: Delivery;
  let receiver: Receiver;
  let producer: Producer;
  let admin: Admin;
  let tenant: { id: string; key: string };
  const evaluators: ChildProcess[] = [];
  let spawned = 0;

  /** An evaluator process of the group; resolves once it has started. */
  function spawnEvaluator(): Promise<ChildProcess> {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--conditions=source", join(repoRoot, "services/evaluator/src/main.ts")],
      {
        env: {
          ...process.env,
          KAFKA_BROKERS: inject("kafkaBrokers").join(","),
          RUNHOOKS_TOPIC_PREFIX: prefix,
          RUNHOOKS_EVALUATOR_GROUP: `${prefix}-evaluator`,
          RUNHOOKS_INSTANCE_ID: `merged-${spawned++}`,
          RUNHOOKS_EVALUATOR_PORT: "-1",
          RUNHOOKS_TICK_INTERVAL_MS: "100",
          RUNHOOKS_SESSION_TIMEOUT_MS: "6000",
          RUNHOOKS_LOG_LEVEL: "info",
        },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    evaluators.push(child);
    return new Promise((resolve, reject) => {
      createInterface({ input: child.stderr }).on("line", (line) => {
        if (line.includes('"message":"evaluator started"')) resolve(child);
        else if (/"level":"(warn|error)"/.test(line)) process.stderr.write(`evaluator: ${line}\n`);
      });
      child.once("exit", (code) => reject(new Error(`an evaluator exited with ${code} before it started`)));
    });
  }

  async function call(
    method: string,
    path: string,
    key: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${api.url}${path}`, {
      method,
      headers: { "x-api-key": key, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /** A rule over runs whose `metadata.batch` is `batch`, in force before this returns. */
  async function rule(batch: string, window: { seconds: number; max_runs: number }): Promise<string> {
    const created = await call("POST", "/rules", tenant.key, {
      display_name: `merged ${batch} ${window.max_runs}`,
      filter: { "==": [{ var: "metadata.batch" }, batch] },
      sampling_rate: 1,
      window,
      webhooks: [{ url: `${receiver.url}/${batch}/${window.max_runs}` }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = (created.body as { rule: { id: string } }).rule.id;
    // Runs are judged by the versions in force at their log time: wait until the relay published it.
    await eventually(
      "the rule in force",
      async () => (await call("GET", `/rules/${id}`, tenant.key)).body["effective_from"] != null,
    );
    return id;
  }

  const runsOf = (batch: string, count: number): Run[] =>
    Array.from({ length: count }, () => makeRun(tenant.id, { extra: { metadata: { batch } } }));

  /** Produces runs round robin over the runs topic's first `partitions` partitions. */
  async function produce(runs: readonly Run[], partitions: number, from = 0): Promise<void> {
    await producer.send({
      topic: topics.runs,
      acks: -1,
      messages: runs.map((r, i) => ({
        partition: (from + i) % partitions,
        key: r.trace_id ?? r.id,
        value: JSON.stringify(r),
      })),
    });
  }

  const posts = (path: string): Post[] =>
    receiver.received
      .filter((r) => r.url === path)
      .map((r) => ({
        received: r,
        payload: WebhookPayload.parse(JSON.parse(r.body.toString())),
        chunk: [
          r.headers["runhooks-chunk-index"] as string | undefined,
          r.headers["runhooks-chunk-count"] as string | undefined,
        ] as const,
      }));

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topicSpecs({ prefix, runsPartitions: RUNS_PARTITIONS, deliveryPartitions: 2 }));
    producer = kafka.producer();
    await producer.connect();
    database = await createTestDatabase("merged");
    receiver = await startReceiver(reply(200, "ok"));
    api = await startApi({
      secrets: TEST_SECRETS,
      databaseUrl: database.url,
      kafkaBrokers: inject("kafkaBrokers"),
      topicPrefix: prefix,
      port: 0,
      adminKey,
      relay: { pollIntervalMs: 100, retryDelayMs: 200 },
      ruleErrors: { groupId: `${prefix}-api-rule-errors` },
    });
    const created = (await call("POST", "/admin/tenants", adminKey, { name: "merged" })).body as {
      tenant: { id: string };
      api_key: { key: string };
    };
    tenant = { id: created.tenant.id, key: created.api_key.key };
    await Promise.all([spawnEvaluator(), spawnEvaluator()]);
    delivery = await startDelivery({
      secrets: TEST_SECRETS,
      brokers: inject("kafkaBrokers"),
      databaseUrl: database.url,
      topicPrefix: prefix,
      groupId: `${prefix}-delivery`,
      instanceId: "merged-delivery",
      sessionTimeoutMs: 6000,
      allowCidrs: ["127.0.0.1/32"],
      pollMs: 50,
      dbPoolSize: 4,
      migrate: false,
      log: (level, message, fields) => {
        if (level === "warn" || level === "error")
          process.stderr.write(`delivery: ${message} ${JSON.stringify(fields)}\n`);
      },
    });
  }, 120_000);

  afterAll(async () => {
    for (const e of evaluators) if (e.exitCode === null && e.signalCode === null) e.kill("SIGKILL");
    await delivery?.stop();
    await api?.close();
    await producer?.disconnect();
    await admin?.disconnect();
    await receiver?.close();
    await database?.drop();
  });

  it(
    "sends 60 runs of one window over six partitions as one POST, or six chunks of max_runs 10",
    { timeout: 120_000 },
    async () => {
      await rule("sixty", { seconds: WINDOW_SECONDS, max_runs: 100 });
      await rule("sixty", { seconds: WINDOW_SECONDS, max_runs: 10 });
      // All 60 in one send, just after a window boundary of the broker's clock (this machine's): one window.
      const intoWindow = WINDOW_SECONDS * 1000 - (Date.now() % (WINDOW_SECONDS * 1000));
      if (intoWindow < WINDOW_SECONDS * 1000 - 500) await new Promise((r) => setTimeout(r, intoWindow + 200));
      const runs = runsOf("sixty", 60);
      await produce(runs, RUNS_PARTITIONS);
      const ids = runs.map((r) => r.id).sort();

      const runIds = (ps: readonly Post[]) => ps.flatMap((p) => p.payload.runs.map((r) => r.id));
      await eventually(
        "every run at both webhooks",
        () => runIds(posts("/sixty/100")).length >= 60 && runIds(posts("/sixty/10")).length >= 60,
        60_000,
      );
      // Everything delivery read is handled: nothing more is on its way.
      await eventually("delivery idle", async () => {
        const rows = (await database.db.query(
          sql`SELECT count(*) FILTER (WHERE status <> 'succeeded')::int AS open, count(*)::int AS n FROM deliveries`,
        )) as {
          open: number;
          n: number;
        }[];
        return rows[0]!.open === 0 && rows[0]!.n === 7;
      });

      const whole = posts("/sixty/100");
      expect(whole).toHaveLength(1);
      expect(runIds(whole).sort()).toEqual(ids);
      expect(whole[0]!.chunk).toEqual(["0", "1"]);

      const chunks = posts("/sixty/10").sort((a, b) => Number(a.chunk[0]) - Number(b.chunk[0]));
      expect(chunks.map((p) => p.chunk)).toEqual([0, 1, 2, 3, 4, 5].map((i) => [String(i), "6"]));
      expect(chunks.map((p) => p.payload.runs.length)).toEqual([10, 10, 10, 10, 10, 10]);
      const chunked = runIds(chunks);
      expect(new Set(chunked).size).toBe(60);
      expect([...chunked].sort()).toEqual(ids);
      // One window, one order: the chunks in index order are the whole window's runs.
      expect(chunked).toEqual(runIds(whole));
      const bounds = new Set([...whole, ...chunks].map((p) => `${p.payload.start_time} ${p.payload.end_time}`));
      expect(bounds.size).toBe(1);
      // Each its own delivery: a stable, distinct webhook-id per POST.
      expect(new Set([...whole, ...chunks].map((p) => p.received.id)).size).toBe(7);
    },
  );

  it(
    "loses no run and duplicates none while the runs topic's partitions are raised",
    { timeout: 240_000 },
    async () => {
      const ruleId = await rule("flow", { seconds: 1, max_runs: 1000 });
      let partitions = RUNS_PARTITIONS;
      const produced: Run[] = [];
      let flowing = true;
      const flow = (async () => {
        while (flowing) {
          const runs = runsOf("flow", 12);
          await produce(runs, partitions, produced.length);
          produced.push(...runs);
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      const flowIds = () => posts("/flow/1000").flatMap((p) => p.payload.runs.map((r) => r.id));
      try {
        await eventually("windows of the flow delivered", () => flowIds().length > 0, 60_000);
        // Two more runs partitions while runs flow; the producer spreads runs over them at once. A new
        // producer: kafkajs drops messages for a partition its metadata does not know yet, silently.
        await admin.createPartitions({ topicPartitions: [{ topic: topics.runs, count: RUNS_PARTITIONS + 2 }] });
        const raised = kafka.producer();
        await raised.connect();
        const old = producer;
        producer = raised;
        partitions = RUNS_PARTITIONS + 2;
        await old.disconnect();
        const raisedAt = produced.length;
        // A rolling restart of the evaluators, as a deployment raising RUNHOOKS_RUNS_PARTITIONS does: each
        // rebalance's leader assigns the new partitions, and each new process knows them (a kafkajs client
        // learns of new partitions only at its next metadata refresh, every 5 minutes).
        for (const old of evaluators.filter((e) => e.exitCode === null && e.signalCode === null)) {
          old.kill("SIGTERM");
          await new Promise((r) => old.once("exit", r));
          await spawnEvaluator();
        }
        // Runs produced to the new partitions arrive, then some more.
        const onNew = new Set(
          produced
            .slice(raisedAt)
            .filter((_, i) => (raisedAt + i) % partitions >= RUNS_PARTITIONS)
            .map((r) => r.id),
        );
        await eventually("runs of the new partitions delivered", () => flowIds().some((id) => onNew.has(id)), 120_000);
        const more = produced.length + 60;
        await eventually("more runs produced", () => produced.length >= more, 60_000);
      } finally {
        flowing = false;
        await flow;
      }
      await eventually("every run of the flow delivered", () => new Set(flowIds()).size >= produced.length, 120_000);

      const delivered = flowIds();
      expect(delivered.length).toBe(produced.length);
      expect([...delivered].sort()).toEqual(produced.map((r) => r.id).sort());
      // One POST per window: every window's bounds once, one chunk of one.
      const flowPosts = posts("/flow/1000");
      expect(new Set(flowPosts.map((p) => p.payload.start_time)).size).toBe(flowPosts.length);
      for (const p of flowPosts) {
        expect(p.chunk).toEqual(["0", "1"]);
        expect(p.payload.rule_id).toBe(ruleId);
      }
      expect(delivery.counters.windowsInvalid).toBe(0);
      expect(delivery.counters.partsRead).toBeGreaterThan(0);
    },
  );
});
