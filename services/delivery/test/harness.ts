import { randomBytes, randomUUID } from "node:crypto";
import { DeliveryAttempt, Rule, WindowPartBundle, type Run, type WindowPart } from "@runhooks/contracts";
import { connectDatabase, createTenant, migrate, saveRule, sql, type Database } from "@runhooks/db";
import { startDelivery, type Delivery, type DeliveryOptions } from "@runhooks/delivery";
import { ensureTopics, murmur2, topicNames, topicSpecs, type TopicNames } from "@runhooks/kafka";
import { mergedWindowId, windowId } from "@runhooks/rules";
import type { IHeaders, Kafka, Producer } from "kafkajs";
import { inject } from "vitest";
import {
  createTestDatabase,
  testKafka,
  uniquePrefix,
  type TestDatabase,
  TEST_SECRETS,
} from "../../../test/support/stack.js";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` holds, or fails with `what` after `timeoutMs`. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
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
  readonly retry?: { schedule: "standard" | number[]; retry_throttled?: boolean; honor_retry_after?: boolean };
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

/**
 * A window as the harness publishes it: one part, from runs partition 0, completed by the watermark
 * that follows it. `window_id` is the id of its first chunk (its only one up to `max_runs` runs).
 */
export interface PublishedWindow {
  readonly window_id: string;
  readonly rule_id: string;
  readonly rule_version: number;
  readonly tenant_id: string;
  readonly start_time: string;
  readonly end_time: string;
  readonly runs: Run[];
  readonly part: WindowPart;
}

/** What a part is made of; the rest is the harness' (ids, the part's place, the runs' times). */
export interface PartSpec {
  readonly ruleId: string;
  readonly version: number;
  readonly tenantId: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly runs: readonly Run[];
  readonly runsPartition?: number;
  readonly piece?: number;
  readonly maxRuns?: number;
  /** Each run's stream time; by default from the window's start, 1 ms apart. */
  readonly runTimes?: readonly number[];
}

/** A part as the evaluator publishes it: its id is the per-partition window id of its piece. */
/**
 * Parts of one runs partition as one bundle message's value (WindowPartBundle), each run once: what
 * the evaluator publishes per windows partition.
 */
export function windowPartBundle(parts: readonly WindowPart[]): string {
  const runs: string[] = [];
  const times: number[] = [];
  const index = new Map<string, number>();
  const entries = parts.map(({ runs: partRuns, run_times: partTimes, ...head }) => {
    const refs = partRuns.map((r, i) => {
      const text = JSON.stringify(r);
      let at = index.get(text);
      if (at === undefined || times[at] !== partTimes[i]) {
        at = runs.push(text) - 1;
        times.push(partTimes[i]!);
        index.set(text, at);
      }
      return at;
    });
    return { ...head, run_refs: refs };
  });
  const bundle = {
    schema_version: 1,
    runs_partition: parts[0]!.runs_partition,
    parts: entries,
    run_times: times,
    runs: runs.map((r) => JSON.parse(r) as unknown),
  };
  // Checked against the contract, written as built: the runs' bytes as each part's JSON holds them.
  WindowPartBundle.parse(bundle);
  return JSON.stringify(bundle);
}

export function windowPart(p: PartSpec): WindowPart {
  const runsPartition = p.runsPartition ?? 0;
  const piece = p.piece ?? 0;
  return {
    schema_version: 1,
    part_id: windowId({
      ruleId: p.ruleId,
      ruleVersion: p.version,
      partition: runsPartition,
      startMs: p.startMs,
      chunk: piece,
    }),
    rule_id: p.ruleId,
    rule_version: p.version,
    tenant_id: p.tenantId,
    max_runs: p.maxRuns ?? 100,
    runs_partition: runsPartition,
    piece,
    start_time: new Date(p.startMs).toISOString(),
    end_time: new Date(p.endMs).toISOString(),
    runs: [...p.runs],
    run_times:
      p.runTimes === undefined
        ? p.runs.map((_, i) => p.startMs + Math.min(i, p.endMs - p.startMs - 1))
        : [...p.runTimes],
  };
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
  /**
   * Produces windows of a rule version to the windows topic, as the evaluators would: a part each, then
   * a watermark of runs partition 0 past them (which completes them when the runs topic has one partition). Each window gets a 1 ms range of its own, later than any
   * before and ending about now, so that a later window is never taken for one already completed.
   */
  publishWindows(
    rule: Pick<StoredRuleInfo, "ruleId" | "version">,
    count: number,
    runsPerWindow?: number,
    tenantId?: string,
  ): Promise<PublishedWindow[]>;
  /** A time range for a window, after every one handed out before (`ms` long). */
  nextRange(ms?: number): { startMs: number; endMs: number };
  /**
   * Produces parts, each keyed by its rule id, as they are; `bundled`: as the evaluator publishes them,
   * bundles of the parts of one runs partition going to one windows partition (in the parts' order).
   */
  publishParts(parts: readonly WindowPart[], options?: { bundled?: boolean }): Promise<void>;
  /** Produces a runs partition's watermark to every partition of the windows topic. */
  publishWatermark(runsPartition: number, streamTime: number): Promise<void>;
  publishRaw(messages: { key: string; value: string; headers?: IHeaders }[]): Promise<void>;
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

export async function createDeliveryHarness(
  label: string,
  o: { databaseUrl?: string; runsPartitions?: number } = {},
): Promise<DeliveryHarness> {
  const prefix = uniquePrefix(label);
  const topics = topicNames(prefix);
  const kafka = testKafka(`delivery-${label}`);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topicSpecs({ prefix, runsPartitions: o.runsPartitions ?? 1, deliveryPartitions: 3 }));
  const windowsPartitions = (await admin.fetchTopicMetadata({ topics: [topics.windows] })).topics[0]!.partitions.map(
    (p) => p.partitionId,
  );
  await admin.disconnect();
  // A database of its own on the test server, or the one given (which the caller owns).
  const database: TestDatabase =
    o.databaseUrl === undefined
      ? await createTestDatabase(label)
      : (() => {
          const pool = connectDatabase({ url: o.databaseUrl, poolSize: 4, secrets: TEST_SECRETS });
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
  /** The end of the last range handed out. */
  let clock = 0;
  const nextRange = (ms = 1) => {
    const startMs = Math.max(clock, Date.now() - ms);
    clock = startMs + ms;
    return { startMs, endMs: clock };
  };
  const partitionOf = (ruleId: string) =>
    windowsPartitions[(murmur2(Buffer.from(ruleId)) & 0x7fffffff) % windowsPartitions.length]!;
  const publishParts = async (parts: readonly WindowPart[], options: { bundled?: boolean } = {}) => {
    if (options.bundled === true) {
      const groups = new Map<string, { partition: number; parts: WindowPart[] }>();
      for (const p of parts) {
        const partition = partitionOf(p.rule_id);
        const key = `${partition}/${p.runs_partition}`;
        let g = groups.get(key);
        if (g === undefined) groups.set(key, (g = { partition, parts: [] }));
        g.parts.push(p);
      }
      await producer.send({
        topic: topics.windows,
        acks: -1,
        messages: [...groups.values()].map((g) => ({
          partition: g.partition,
          value: windowPartBundle(g.parts),
          headers: { "runhooks-kind": "parts" },
        })),
      });
      return;
    }
    for (let i = 0; i < parts.length; i += 500) {
      await producer.send({
        topic: topics.windows,
        acks: -1,
        messages: parts
          .slice(i, i + 500)
          .map((p) => ({ key: p.rule_id, value: JSON.stringify(p), headers: { "runhooks-kind": "part" } })),
      });
    }
  };
  const publishWatermark = async (runsPartition: number, streamTime: number) => {
    const value = JSON.stringify({ schema_version: 1, runs_partition: runsPartition, stream_time: streamTime });
    await producer.send({
      topic: topics.windows,
      acks: -1,
      messages: windowsPartitions.map((partition) => ({
        partition,
        key: `__watermark__/${runsPartition}`,
        value,
        headers: { "runhooks-kind": "watermark" },
      })),
    });
  };
  /** Publications one at a time: a window's part always precedes the watermark that completes it. */
  let publishing: Promise<unknown> = Promise.resolve();

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
      return {
        ruleId: rule.id,
        version: saved.record.version,
        webhookIds: saved.record.rule.webhooks.map((w) => w.id),
      };
    },
    publishWindows(rule, count, runsPerWindow = 2, owner = tenantId) {
      const windows: PublishedWindow[] = [];
      for (let i = 0; i < count; i++) {
        const { startMs, endMs } = nextRange();
        const runs = Array.from({ length: runsPerWindow }, () => makeRun(owner));
        const part = windowPart({
          ruleId: rule.ruleId,
          version: rule.version,
          tenantId: owner,
          startMs,
          endMs,
          runs,
          runTimes: runs.map(() => startMs),
        });
        windows.push({
          window_id: mergedWindowId({ ruleId: rule.ruleId, ruleVersion: rule.version, startMs, chunk: 0 }),
          rule_id: rule.ruleId,
          rule_version: rule.version,
          tenant_id: owner,
          start_time: part.start_time,
          end_time: part.end_time,
          runs,
          part,
        });
      }
      const done = publishing.then(async () => {
        await publishParts(windows.map((w) => w.part));
        await publishWatermark(0, clock);
      });
      publishing = done.catch(() => undefined);
      return done.then(() => windows);
    },
    nextRange,
    publishParts,
    publishWatermark,
    async publishRaw(messages) {
      await producer.send({ topic: topics.windows, acks: -1, messages });
    },
    async start(options = {}) {
      const service = await startDelivery({
        secrets: TEST_SECRETS,
        brokers: inject("kafkaBrokers"),
        databaseUrl: database.url,
        topicPrefix: prefix,
        // No group: the prefix's own, `<prefix>-delivery` (RUNHOOKS_DELIVERY_GROUP unset), which the
        // checks below read the committed offsets of.
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
      const rows = (await db.query(
        sql`SELECT * FROM delivery_attempts WHERE ${filter} ORDER BY delivery_id, attempt`,
      )) as (AttemptRow & {
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
