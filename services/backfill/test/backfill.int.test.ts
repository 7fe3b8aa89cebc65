import { randomBytes } from "node:crypto";
import { startApi, type RunningApi } from "@runhooks/api";
import { startBackfillService, type BackfillService } from "@runhooks/backfill";
import { sql } from "@runhooks/db";
import { startDelivery, type Delivery } from "@runhooks/delivery";
import { startEvaluator, type Evaluator } from "@runhooks/evaluator";
import { ensureTopics, topicNames, topicSpecs } from "@runhooks/kafka";
import { DEFAULT_TRACE_LIMITS } from "@runhooks/rules";
import type { Admin, Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eventually, makeRun } from "../../delivery/test/harness.js";
import { reply, startReceiver, type Receiver } from "../../delivery/test/receiver.js";
import {
  createTestDatabase,
  testKafka,
  uniquePrefix,
  type TestDatabase,
  TEST_SECRETS,
} from "../../../test/support/stack.js";

/**
 * Backfills end to end: the real API, an evaluator and delivery for the live rule, the backfill service
 * and a real receiver. Runs are produced while only an always-on rule is in force; a rule created
 * afterwards with `backfill_from` must send the windows the always-on rule sent. Decided by events:
 * what the receiver got, the backfill's state, and delivery idle.
 */

const quiet = () => undefined;
const FILTER = { "==": [{ var: "status" }, "error"] };

interface Window {
  readonly start: string;
  readonly end: string;
  readonly runs: string[];
  readonly backfillId: string | undefined;
  readonly header: string | undefined;
}

describe("backfills", () => {
  const prefix = uniquePrefix("backfill");
  const topics = topicNames(prefix);
  const adminKey = `admin-${randomBytes(12).toString("hex")}`;
  const kafka = testKafka("backfill");
  let database: TestDatabase;
  let api: RunningApi;
  let evaluator: Evaluator;
  let delivery: Delivery;
  let backfills: BackfillService | undefined;
  let receiver: Receiver;
  let producer: Producer;
  let admin: Admin;
  let tenant: { id: string; key: string };
  const startedAt = new Date(Date.now() - 1000).toISOString();

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${api.url}${path}`, {
      method,
      headers: { "x-api-key": tenant.key, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: await response.json() };
  }

  function ruleBody(path: string, extra: Record<string, unknown> = {}) {
    return {
      display_name: path,
      sampling_rate: 1,
      filter: FILTER,
      window: { seconds: 1, max_runs: 7 },
      webhooks: [{ url: `${receiver.url}/${path}` }],
      ...extra,
    };
  }

  async function inForce(id: string): Promise<void> {
    await eventually("the rule in force", async () => {
      const read = (await call("GET", `/rules/${id}`)).body as { effective_from: string | null };
      return read.effective_from !== null;
    });
  }

  const windowsAt = (path: string): Window[] =>
    receiver.received
      .filter((r) => r.url === `/${path}`)
      .map((r) => {
        const body = JSON.parse(r.body.toString()) as {
          start_time: string;
          end_time: string;
          backfill_id?: string;
          runs: { id: string }[];
        };
        const header = r.headers["runhooks-backfill"];
        return {
          start: body.start_time,
          end: body.end_time,
          runs: body.runs.map((run) => run.id),
          backfillId: body.backfill_id,
          header: typeof header === "string" ? header : undefined,
        };
      })
      .sort((a, b) => a.start.localeCompare(b.start) || a.runs[0]!.localeCompare(b.runs[0]!));

  async function idle(ruleId: string): Promise<void> {
    await eventually("delivery idle", async () => {
      const rows = (await database.db.query(
        sql`SELECT count(*) FILTER (WHERE status <> 'succeeded')::int AS open FROM deliveries WHERE rule_id = ${ruleId}`,
      )) as { open: number }[];
      return rows[0]!.open === 0;
    });
  }

  async function backfillsOf(ruleId: string) {
    return (
      (await call("GET", `/rules/${ruleId}/backfills`)).body as {
        backfills: { id: string; state: string; runs_read: number; runs_total: number; windows_sent: number }[];
      }
    ).backfills;
  }

  async function ended(ruleId: string, backfillId: string) {
    let state = "";
    await eventually(
      "the backfill ended",
      async () => {
        state = (await backfillsOf(ruleId)).find((b) => b.id === backfillId)?.state ?? "";
        return state === "succeeded" || state === "failed" || state === "cancelled";
      },
      60_000,
    );
    return (await backfillsOf(ruleId)).find((b) => b.id === backfillId)!;
  }

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topicSpecs({ prefix, runsPartitions: 2, deliveryPartitions: 2 }));
    producer = kafka.producer();
    await producer.connect();
    database = await createTestDatabase("backfill");
    receiver = await startReceiver(reply(200, "ok"));
    api = await startApi({
      databaseUrl: database.url,
      secrets: TEST_SECRETS,
      kafkaBrokers: inject("kafkaBrokers"),
      topicPrefix: prefix,
      port: 0,
      adminKey,
      relay: { pollIntervalMs: 100, retryDelayMs: 200 },
      ruleErrors: { groupId: `${prefix}-api-rule-errors` },
    });
    const created = await fetch(`${api.url}/admin/tenants`, {
      method: "POST",
      headers: { "x-api-key": adminKey, "content-type": "application/json" },
      body: JSON.stringify({ name: "backfill" }),
    });
    const answer = (await created.json()) as { tenant: { id: string }; api_key: { key: string } };
    tenant = { id: answer.tenant.id, key: answer.api_key.key };
    evaluator = await startEvaluator({
      brokers: inject("kafkaBrokers"),
      topicPrefix: prefix,
      groupId: `${prefix}-evaluator`,
      instanceId: "backfill-live",
      maxRunBytes: 512 * 1024,
      tickIntervalMs: 100,
      sessionTimeoutMs: 6000,
      log: quiet,
    });
    delivery = await startDelivery({
      brokers: inject("kafkaBrokers"),
      databaseUrl: database.url,
      secrets: TEST_SECRETS,
      topicPrefix: prefix,
      groupId: `${prefix}-delivery`,
      instanceId: "backfill-delivery",
      sessionTimeoutMs: 6000,
      allowCidrs: ["127.0.0.1/32"],
      pollMs: 50,
      dbPoolSize: 4,
      migrate: false,
      log: quiet,
    });
  }, 120_000);

  afterAll(async () => {
    await backfills?.stop();
    await delivery?.stop();
    await evaluator?.stop();
    await api?.close();
    await producer?.disconnect();
    await admin?.disconnect();
    await receiver?.close();
    await database?.drop();
  });

  const startBackfills = async () => {
    backfills = await startBackfillService({
      brokers: inject("kafkaBrokers"),
      databaseUrl: database.url,
      secrets: TEST_SECRETS,
      topicPrefix: prefix,
      instanceId: "backfill-test",
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
      http: { host: "127.0.0.1", port: 0 },
      log: quiet,
    });
  };

  it("sends a rule created with backfill_from the windows an always-on rule sent, marked, and again the same ids", async () => {
    const live = (await call("POST", "/rules", ruleBody("live"))).body as { rule: { id: string } };
    await inForce(live.rule.id);
    // Three rounds of runs, each once the last reached the live webhook: several windows, both partitions.
    let produced = 0;
    for (let round = 0; round < 3; round++) {
      const runs = Array.from({ length: 12 }, (_, i) =>
        makeRun(tenant.id, { status: i % 4 === 3 ? "success" : "error" }),
      );
      await producer.send({
        topic: topics.runs,
        acks: -1,
        messages: runs.map((r, i) => ({ partition: i % 2, key: r.id, value: JSON.stringify(r) })),
      });
      produced += runs.filter((r) => r.status === "error").length;
      await eventually(
        "the round delivered live",
        () => windowsAt("live").reduce((n, w) => n + w.runs.length, 0) === produced,
      );
    }
    await idle(live.rule.id);
    const liveWindows = windowsAt("live");
    expect(liveWindows.length).toBeGreaterThanOrEqual(6);

    // A new rule with backfill_from: its backfill waits (no backfill process yet), so a second is a 409.
    const created = await call("POST", "/rules", ruleBody("backfilled", { backfill_from: startedAt }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const { rule, backfill } = created.body as { rule: { id: string }; backfill: { id: string; state: string } };
    expect(backfill.state).toBe("pending");
    const again = await call("POST", `/rules/${rule.id}/backfill`, { from: startedAt });
    expect(again.status, JSON.stringify(again.body)).toBe(409);
    expect(await call("POST", `/rules/${rule.id}/backfill`, { from: "yesterday" })).toMatchObject({ status: 400 });

    await startBackfills();
    const first = await ended(rule.id, backfill.id);
    expect(first.state).toBe("succeeded");
    // Every message of the range was read: the runs and the evaluator's ticks.
    expect(first.runs_read).toBe(first.runs_total);
    expect(first.runs_total).toBeGreaterThanOrEqual(36);
    await idle(rule.id);
    const sent = windowsAt("backfilled");
    // The same windows, the same runs in each, in the same order; marked with the backfill.
    expect(sent.map((w) => ({ start: w.start, end: w.end, runs: w.runs }))).toEqual(
      liveWindows.map((w) => ({ start: w.start, end: w.end, runs: w.runs })),
    );
    for (const w of sent)
      expect({ field: w.backfillId, header: w.header }).toEqual({ field: backfill.id, header: backfill.id });
    for (const w of liveWindows) expect(w.header).toBeUndefined();
    expect(first.windows_sent).toBe(sent.length);
    // What operators see: healthy, and the runs and windows of the backfill counted.
    const health = await fetch(`${backfills!.url}/healthz`);
    expect({ status: health.status, body: await health.json() }).toEqual({ status: 200, body: { status: "ok" } });
    const metrics = await (await fetch(`${backfills!.url}/metrics`)).text();
    expect(metrics).toContain(`runhooks_backfill_runs_read_total ${first.runs_read}`);
    expect(metrics).toContain(`runhooks_backfill_windows_stored_total ${sent.length}`);
    // The run's end is counted once the runner returns, just after it recorded the backfill's end.
    await eventually("the run's end counted", () => backfills!.counters.runsEnded.succeeded === 1);
    const counted = await (await fetch(`${backfills!.url}/metrics`)).text();
    expect(counted).toMatch(/runhooks_backfill_runs_ended_total\{outcome="succeeded"\} 1\b/);
    const stored = async () =>
      (
        (await database.db.query(
          sql`SELECT window_id FROM delivery_windows WHERE rule_id = ${rule.id} ORDER BY window_id`,
        )) as { window_id: string }[]
      ).map((r) => r.window_id);
    const ids = await stored();
    expect(ids).toHaveLength(sent.length);

    // A second backfill of the same range makes the same window ids: nothing new is stored or sent.
    const to = (await backfillsOf(rule.id)).find((b) => b.id === backfill.id) as unknown as { to: string };
    const second = await call("POST", `/rules/${rule.id}/backfill`, { from: startedAt, to: to.to });
    expect(second.status, JSON.stringify(second.body)).toBe(202);
    const secondId = (second.body as { id: string }).id;
    expect(await ended(rule.id, secondId)).toMatchObject({ state: "succeeded", windows_sent: sent.length });
    expect(await stored()).toEqual(ids);
    await idle(rule.id);
    expect(windowsAt("backfilled")).toHaveLength(sent.length);
  }, 180_000);

  it("refuses a from that retention removed, naming the earliest time the runs topic still holds", async () => {
    const quietRuns = Array.from({ length: 4 }, () => makeRun(tenant.id, { status: "success" }));
    const [written] = await producer.send({
      topic: topics.runs,
      acks: -1,
      messages: quietRuns.map((r) => ({ partition: 0, key: r.id, value: JSON.stringify(r) })),
    });
    // Retention as Kafka applies it: partition 0's log now starts at the third of these runs.
    const firstHeld = Number(written!.baseOffset) + 2;
    await admin.deleteTopicRecords({ topic: topics.runs, partitions: [{ partition: 0, offset: String(firstHeld) }] });
    const heldSince = Number(await appendTime(topics.runs, 0, firstHeld));
    const earliest = new Date(heldSince + 1).toISOString();

    const rule = (await call("POST", "/rules", ruleBody("retention"))).body as { rule: { id: string } };
    const refused = await call("POST", `/rules/${rule.rule.id}/backfill`, { from: startedAt });
    expect(refused.status, JSON.stringify(refused.body)).toBe(400);
    expect(refused.body).toMatchObject({
      error: "before_retention",
      earliest_available: earliest,
      issues: [{ path: "from", message: `must be at or after ${earliest}` }],
    });
    expect((refused.body as { message: string }).message).toContain(earliest);
    // The same with backfill_from: nothing is created.
    const withRule = await call("POST", "/rules", ruleBody("retention too", { backfill_from: startedAt }));
    expect(withRule).toMatchObject({ status: 400, body: { error: "before_retention", earliest_available: earliest } });
    const named = (await call("GET", "/rules")).body as { rules: { display_name: string }[] };
    expect(named.rules.map((r) => r.display_name)).toEqual(expect.arrayContaining(["live", "retention"]));
    expect(named.rules.map((r) => r.display_name)).not.toContain("retention too");
    // From the time named, the range is held.
    expect(await call("POST", `/rules/${rule.rule.id}/backfill`, { from: earliest })).toMatchObject({ status: 202 });
  }, 60_000);

  /** The timestamp of one message, read by a consumer of its own (offsets-for-times searches these). */
  async function appendTime(topic: string, partition: number, offset: number): Promise<string> {
    const consumer = kafka.consumer({ groupId: `${prefix}-append-time` });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      return await new Promise<string>((resolve) => {
        void consumer.run({
          eachMessage: (m) => {
            if (m.partition === partition && Number(m.message.offset) === offset) resolve(m.message.timestamp);
            return Promise.resolve();
          },
        });
      });
    } finally {
      await consumer.disconnect();
    }
  }
});
