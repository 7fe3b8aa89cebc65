import { randomBytes, randomUUID } from "node:crypto";
import { DeliveryAttempt, Rule, type MatchWindow, type Run } from "@runhooks/contracts";
import { connectDatabase, createTenant, migrate, saveRule, sql, type Database } from "@runhooks/db";
import { startDelivery, type Delivery, type DeliveryOptions } from "@runhooks/delivery";
import { ensureTopics, topicNames, topicSpecs, type TopicNames } from "@runhooks/kafka";
import type { Kafka, Producer } from "kafkajs";
import { inject } from "vitest";
import { createTestDatabase, testKafka, uniquePrefix, type TestDatabase } from "../../../test/support/stack.js";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` holds, or fails with `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export function newSecret(): string {
  return `whsec_${randomBytes(24).toString("base64")}`;
}

export interface WebhookSpec {
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly signing_secret?: string;
}

export interface StoredRuleInfo {
  readonly ruleId: string;
  readonly version: number;
  readonly webhookIds: string[];
}

export interface DeliveryRow {
  id: string;
  window_id: string;
  webhook_id: string;
  status: string;
  attempts: number;
  round_attempts: number;
  next_attempt_at: Date | null;
  last_outcome: string | null;
}

export interface AttemptRow {
  id: string;
  delivery_id: string;
  attempt: number;
  trigger: string;
  started_at: Date;
  duration_ms: number;
  outcome: string;
  status_code: number | null;
  error: string | null;
  response_excerpt: string | null;
  url: string;
  published_at: Date | null;
}

/** A fresh database and topics, a tenant, rules with webhooks, and windows to feed the service. */
export interface DeliveryHarness {
  readonly prefix: string;
  readonly topics: TopicNames;
  readonly kafka: Kafka;
  readonly database: TestDatabase;
  readonly db: Database;
  readonly tenantId: string;
  /** Log lines of services started with `start`. */
  readonly logs: string[];
  /** Another tenant (the harness' own is `tenantId`). */
  createTenant(name: string): Promise<string>;
  createRule(webhooks: readonly WebhookSpec[], tenantId?: string): Promise<StoredRuleInfo>;
  /** Produces windows of a rule version to the windows topic. */
  publishWindows(rule: Pick<StoredRuleInfo, "ruleId" | "version">, count: number, runsPerWindow?: number, tenantId?: string): Promise<MatchWindow[]>;
  publishRaw(messages: { key: string; value: string }[]): Promise<void>;
  /** Starts a delivery service on this harness' topics and database (127.0.0.1 allowed unless overridden). */
  start(options?: Partial<DeliveryOptions>): Promise<Delivery>;
  deliveries(where?: { windowIds?: string[] }): Promise<DeliveryRow[]>;
  attempts(deliveryId?: string): Promise<AttemptRow[]>;
  /** Every message of the attempts topic so far (at least `atLeast`). */
  attemptMessages(atLeast: number): Promise<{ raw: string; value: DeliveryAttempt }[]>;
  /**
   * Whether the delivery group has committed every message of the windows topic: each window read so
   * far is handled (stored, or skipped), and all it was going to create exists.
   */
  windowsConsumed(): Promise<boolean>;
  close(): Promise<void>;
}

export function makeRun(tenantId: string, patch: Partial<Run> = {}): Run {
  const id = randomUUID();
  const now = Date.now();
  return {
    id,
    trace_id: id,
    name: "ChatOpenAI",
    run_type: "llm",
    status: "error",
    start_time: new Date(now - 1200).toISOString(),
    end_time: new Date(now).toISOString(),
    tenant_id: tenantId,
    session_id: "6a3be6a2-9a8c-4fc8-b4c6-a8983b286cc5",
    dotted_order: `20240405T012854085646Z${id}`,
    inputs: { prompt: "hello" },
    outputs: { text: "hi" },
    extra: { metadata: { env: "prod" } },
    total_tokens: 12,
    ...patch,
  };
}

export async function createDeliveryHarness(label: string, o: { databaseUrl?: string } = {}): Promise<DeliveryHarness> {
  const prefix = uniquePrefix(label);
  const topics = topicNames(prefix);
  const kafka = testKafka(`delivery-${label}`);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topicSpecs({ prefix, runsPartitions: 1, deliveryPartitions: 3 }));
  await admin.disconnect();
  // A database of its own on the test server, or the one given (which the caller owns).
  const database: TestDatabase =
    o.databaseUrl === undefined
      ? await createTestDatabase(label)
      : (() => {
          const pool = connectDatabase({ url: o.databaseUrl, poolSize: 4 });
          return { url: o.databaseUrl, db: pool, drop: () => pool.dispose() };
        })();
  const db = database.db;
  await migrate(db);
  const tenant = await createTenant(db, { name: label });
  if (!tenant.ok) throw new Error("could not create the tenant");
  const tenantId = tenant.tenant.id;
  const producer: Producer = kafka.producer();
  await producer.connect();
  const services: Delivery[] = [];
  const logs: string[] = [];

  return {
    prefix,
    topics,
    kafka,
    database,
    db,
    tenantId,
    logs,
    async createTenant(name) {
      const created = await createTenant(db, { name });
      if (!created.ok) throw new Error("could not create the tenant");
      return created.tenant.id;
    },
    async createRule(webhooks, owner = tenantId) {
      const rule = Rule.parse({
        id: randomUUID(),
        tenant_id: owner,
        display_name: `${label} rule`,
        filter: { "==": [{ var: "status" }, "error"] },
        webhooks,
      });
      const saved = await saveRule(db, { tenantId: owner, rule, mode: "create" });
      if (!saved.ok) throw new Error(`could not save the rule: ${saved.reason}`);
      return { ruleId: rule.id, version: saved.record.version, webhookIds: saved.record.rule.webhooks.map((w) => w.id) };
    },
    async publishWindows(rule, count, runsPerWindow = 2, owner = tenantId) {
      const windows: MatchWindow[] = [];
      for (let i = 0; i < count; i++) {
        const start = Math.floor(Date.now() / 1000) * 1000 - 5000 + i;
        windows.push({
          schema_version: 1,
          window_id: randomUUID(),
          rule_id: rule.ruleId,
          rule_version: rule.version,
          tenant_id: owner,
          partition: 0,
          chunk: i,
          start_time: new Date(start).toISOString(),
          end_time: new Date(start + 5000).toISOString(),
          runs: Array.from({ length: runsPerWindow }, () => makeRun(owner)),
        });
      }
      for (let i = 0; i < windows.length; i += 500) {
        await producer.send({
          topic: topics.windows,
          acks: -1,
          messages: windows.slice(i, i + 500).map((w) => ({ key: w.rule_id, value: JSON.stringify(w) })),
        });
      }
      return windows;
    },
    async publishRaw(messages) {
      await producer.send({ topic: topics.windows, acks: -1, messages });
    },
    async start(options = {}) {
      const service = await startDelivery({
        brokers: inject("kafkaBrokers"),
        databaseUrl: database.url,
        topicPrefix: prefix,
        groupId: `${prefix}-delivery`,
        instanceId: `test-${services.length}`,
        sessionTimeoutMs: 6000,
        allowCidrs: ["127.0.0.1/32"],
        pollMs: 50,
        dbPoolSize: 6,
        log: (level, message, fields) => logs.push(JSON.stringify({ level, message, ...fields })),
        ...options,
      });
      services.push(service);
      return service;
    },
    async deliveries(where = {}) {
      const filter = where.windowIds === undefined ? sql`true` : sql`window_id = ANY(${where.windowIds}::uuid[])`;
      return (await db.query(sql`
        SELECT id, window_id, webhook_id, status, attempts, round_attempts, next_attempt_at, last_outcome
        FROM deliveries WHERE ${filter} ORDER BY created_at, id`)) as DeliveryRow[];
    },
    async attempts(deliveryId) {
      const filter = deliveryId === undefined ? sql`true` : sql`delivery_id = ${deliveryId}`;
      const rows = (await db.query(sql`SELECT * FROM delivery_attempts WHERE ${filter} ORDER BY delivery_id, attempt`)) as (AttemptRow & {
        id: bigint;
      })[];
      return rows.map((r) => ({ ...r, id: String(r.id) }));
    },
    async attemptMessages(atLeast) {
      const out: { raw: string; value: DeliveryAttempt }[] = [];
      const consumer = kafka.consumer({ groupId: `read-${randomUUID()}`, maxWaitTimeInMs: 100 });
      await consumer.connect();
      await consumer.subscribe({ topic: topics.attempts, fromBeginning: true });
      await consumer.run({
        eachMessage: ({ message }) => {
          const raw = message.value!.toString();
          out.push({ raw, value: DeliveryAttempt.parse(JSON.parse(raw)) });
          return Promise.resolve();
        },
      });
      try {
        await eventually(`${atLeast} attempt messages`, () => out.length >= atLeast, 30_000);
        // Anything more that is already there.
        await sleep(500);
      } finally {
        await consumer.disconnect();
      }
      return out;
    },
    async windowsConsumed() {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const ends = await admin.fetchTopicOffsets(topics.windows);
        const [committed] = await admin.fetchOffsets({ groupId: `${prefix}-delivery`, topics: [topics.windows] });
        return ends.every((end) => {
          const c = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? "-1";
          return BigInt(end.high) === 0n || (c !== "-1" && BigInt(c) >= BigInt(end.high));
        });
      } finally {
        await admin.disconnect();
      }
    },
    async close() {
      for (const s of services) await s.stop().catch(() => undefined);
      await producer.disconnect();
      await database.drop();
    },
  };
}
