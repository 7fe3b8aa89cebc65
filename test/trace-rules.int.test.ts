import { randomBytes, randomUUID } from "node:crypto";
import { startApi, type RunningApi } from "@runhooks/api";
import { WebhookPayload, type Run } from "@runhooks/contracts";
import { sql } from "@runhooks/db";
import { startDelivery, type Delivery } from "@runhooks/delivery";
import { startEvaluator, type Evaluator } from "@runhooks/evaluator";
import { ensureTopics, topicNames, topicSpecs } from "@runhooks/kafka";
import type { Admin, Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eventually, makeRun } from "../services/delivery/test/harness.js";
import { reply, startReceiver, type Receiver } from "../services/delivery/test/receiver.js";
import { createTestDatabase, testKafka, uniquePrefix, type TestDatabase, TEST_SECRETS } from "./support/stack.js";

/**
 * Trace-aware rules end to end: the real API (rules, relay), an evaluator, the delivery service and a
 * real receiver. A trace's runs are produced as ingest publishes them (each once it has ended, children
 * before their root) to one runs partition, keyed by trace. Decided by events: what the receiver got,
 * and what delivery stored once it is idle.
 */

const quiet = () => undefined;

describe("trace-aware rules", () => {
  const prefix = uniquePrefix("traces");
  const topics = topicNames(prefix);
  const adminKey = `admin-${randomBytes(12).toString("hex")}`;
  const kafka = testKafka("traces");
  let database: TestDatabase;
  let api: RunningApi;
  let evaluator: Evaluator;
  let delivery: Delivery;
  let receiver: Receiver;
  let producer: Producer;
  let admin: Admin;
  let tenant: { id: string; key: string };

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${api.url}${path}`, {
      method,
      headers: { "x-api-key": tenant.key, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: await response.json() };
  }

  /** A rule delivering to `${receiver}/${path}`, in force before this returns. */
  async function rule(path: string, fields: Record<string, unknown>): Promise<string> {
    const created = await call("POST", "/rules", {
      display_name: path,
      sampling_rate: 1,
      window: { seconds: 1, max_runs: 100 },
      webhooks: [{ url: `${receiver.url}/${path}` }],
      ...fields,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = (created.body as { rule: { id: string } }).rule.id;
    // Runs are judged by the versions in force at their log time: wait until the relay published it.
    await eventually("the rule in force", async () => {
      const read = (await call("GET", `/rules/${id}`)).body as { effective_from: string | null };
      return read.effective_from !== null;
    });
    return id;
  }

  /** A trace: its children, then its root (or none), each ended, all to runs partition 0 in this order. */
  function trace(root: Partial<Run> | null, ...children: Partial<Run>[]): { root: Run | undefined; children: Run[] } {
    const traceId = randomUUID();
    const kids = children.map((c) =>
      makeRun(tenant.id, { trace_id: traceId, parent_run_id: traceId, is_root: false, status: "success", ...c }),
    );
    const top =
      root === null
        ? undefined
        : makeRun(tenant.id, {
            id: traceId,
            trace_id: traceId,
            is_root: true,
            run_type: "chain",
            status: "success",
            ...root,
          });
    return { root: top, children: kids };
  }

  async function produce(...traces: { root: Run | undefined; children: Run[] }[]): Promise<void> {
    const runs = traces.flatMap((t) => [...t.children, ...(t.root ? [t.root] : [])]);
    await producer.send({
      topic: topics.runs,
      acks: -1,
      messages: runs.map((r) => ({ partition: 0, key: r.trace_id ?? r.id, value: JSON.stringify(r) })),
    });
  }

  const delivered = (path: string): string[] =>
    receiver.received
      .filter((r) => r.url === `/${path}`)
      .flatMap((r) => WebhookPayload.parse(JSON.parse(r.body.toString())).runs.map((run) => run.id));

  /** Every delivery of the rule is final: whatever its windows held has reached the receiver. */
  async function idle(ruleId: string): Promise<void> {
    await eventually("delivery idle", async () => {
      const rows = (await database.db.query(
        sql`SELECT count(*) FILTER (WHERE status <> 'succeeded')::int AS open FROM deliveries WHERE rule_id = ${ruleId}`,
      )) as { open: number }[];
      return rows[0]!.open === 0;
    });
  }

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topicSpecs({ prefix, runsPartitions: 2, deliveryPartitions: 2 }));
    producer = kafka.producer();
    await producer.connect();
    database = await createTestDatabase("traces");
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
    const created = await fetch(`${api.url}/admin/tenants`, {
      method: "POST",
      headers: { "x-api-key": adminKey, "content-type": "application/json" },
      body: JSON.stringify({ name: "traces" }),
    });
    const answer = (await created.json()) as { tenant: { id: string }; api_key: { key: string } };
    tenant = { id: answer.tenant.id, key: answer.api_key.key };
    evaluator = await startEvaluator({
      brokers: inject("kafkaBrokers"),
      topicPrefix: prefix,
      groupId: `${prefix}-evaluator`,
      instanceId: "traces",
      maxRunBytes: 512 * 1024,
      tickIntervalMs: 100,
      sessionTimeoutMs: 6000,
      log: quiet,
    });
    delivery = await startDelivery({
      secrets: TEST_SECRETS,
      brokers: inject("kafkaBrokers"),
      databaseUrl: database.url,
      topicPrefix: prefix,
      groupId: `${prefix}-delivery`,
      instanceId: "traces-delivery",
      sessionTimeoutMs: 6000,
      allowCidrs: ["127.0.0.1/32"],
      pollMs: 50,
      dbPoolSize: 4,
      migrate: false,
      log: quiet,
    });
  }, 120_000);

  afterAll(async () => {
    await delivery?.stop();
    await evaluator?.stop();
    await api?.close();
    await producer?.disconnect();
    await admin?.disconnect();
    await receiver?.close();
    await database?.drop();
  });

  it("delivers the LLM error of a vip trace to “LLM errors in vip traces”, and nothing of the same trace untagged", async () => {
    const ruleId = await rule("vip-llm-errors", {
      filter: { and: [{ "==": [{ var: "run_type" }, "llm"] }, { "==": [{ var: "has_error" }, true] }] },
      trace_filter: { in: ["vip", { var: "tags" }] },
    });
    const untagged = trace({ tags: ["free-tier"] }, { status: "error", error: "rate limited" }, { run_type: "tool" });
    const vip = trace({ tags: ["vip"] }, { status: "error", error: "rate limited" }, { run_type: "tool" });
    // The untagged trace first, in the same partition: its root is decided before the vip trace's, so
    // a window it filled would come first, and delivery would have stored it by the time it is idle.
    await produce(untagged, vip);

    await eventually("the vip trace's error delivered", () => delivered("vip-llm-errors").length > 0, 60_000);
    await idle(ruleId);
    expect(delivered("vip-llm-errors")).toEqual([vip.children[0]!.id]);
    // Both errors waited for their roots.
    expect(evaluator.counters.runsHeld).toBe(2);
  });

  it("delivers, to a tree_filter on a tool run, the root of a trace holding one and not the other's", async () => {
    const ruleId = await rule("roots-with-tools", {
      filter: { "==": [{ var: "is_root" }, true] },
      tree_filter: { "==": [{ var: "run_type" }, "tool"] },
    });
    const without = trace({}, { run_type: "llm" }, { run_type: "retriever" });
    const withTool = trace({}, { run_type: "llm" }, { run_type: "tool", name: "search" });
    // A root that never comes: its child waits for its horizon, and nothing of it is ever delivered.
    const rootless = trace(null, { run_type: "tool" });
    await produce(without, rootless, withTool);

    await eventually("the root with a tool run delivered", () => delivered("roots-with-tools").length > 0, 60_000);
    await idle(ruleId);
    expect(delivered("roots-with-tools")).toEqual([withTool.root!.id]);
  });
});
