import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Kafka } from "kafkajs";
import { Rule, RuleVersion } from "@runhooks/contracts";
import { countPendingOutbox, createTenant, deleteRule, migrate, saveRule, sql } from "@runhooks/db";
import { ensureTopics, topicNames, topicSpecs } from "@runhooks/kafka";
import { HEADER_KIND, HEADER_OUTBOX_ID, HEADER_OUTBOX_STREAM } from "../src/relay/headers.js";
import { startOutboxRelay } from "../src/relay/outbox-relay.js";
import { inject } from "vitest";
import { createTestDatabase, testKafka, uniquePrefix, type TestDatabase } from "../../../test/support/stack.js";
import { readWholeTopic, type TopicMessage } from "./support/read-topic.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const childScript = fileURLToPath(new URL("./support/relay-child.ts", import.meta.url));
const SECRETS = ["s3cret-in-url", "header-secret-value", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "example.com"];

const silentLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

interface Setup {
  database: TestDatabase;
  tenantId: string;
  topic: string;
  kafka: Kafka;
}

async function setUp(label: string): Promise<Setup> {
  const database = await createTestDatabase(label);
  await migrate(database.db);
  const tenant = await createTenant(database.db, { name: label });
  if (!tenant.ok) throw new Error("tenant");
  const kafka = testKafka();
  const prefix = uniquePrefix(label);
  const topic = topicNames(prefix).rules;
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(
    admin,
    topicSpecs({ prefix }).filter((s) => s.name === topic),
  );
  await admin.disconnect();
  return { database, tenantId: tenant.tenant.id, topic, kafka };
}

function ruleDoc(tenantId: string, name: string): Rule {
  return Rule.parse({
    id: randomUUID(),
    tenant_id: tenantId,
    display_name: name,
    filter: { "==": [{ var: "run_type" }, "llm"] },
    webhooks: [
      {
        url: "https://example.com/hook?secret=s3cret-in-url",
        headers: { authorization: "header-secret-value" },
        signing_secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      },
    ],
  });
}

/** Writes a few versions of a few rules (one deleted): the outbox entries the relay must publish. */
async function writeVersions(s: Setup, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const rule = ruleDoc(s.tenantId, `rule ${i}`);
    await saveRule(s.database.db, { tenantId: s.tenantId, rule, mode: "create" });
    await saveRule(s.database.db, { tenantId: s.tenantId, rule: { ...rule, sampling_rate: 0.25 }, mode: "update" });
    if (i % 2 === 0) await deleteRule(s.database.db, { tenantId: s.tenantId, ruleId: rule.id });
  }
}

async function produceTick(s: Setup): Promise<void> {
  const producer = s.kafka.producer();
  await producer.connect();
  await producer.send({
    topic: s.topic,
    acks: -1,
    messages: [
      {
        key: "__tick__",
        value: JSON.stringify({ schema_version: 1, kind: "tick", source: "test" }),
        headers: { [HEADER_KIND]: "tick" },
      },
    ],
  });
  await producer.disconnect();
}

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

function runRelayChild(s: Setup, env: Record<string, string>): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", childScript], {
      cwd: repoRoot,
      env: {
        ...process.env,
        DATABASE_URL: s.database.url,
        KAFKA_BROKERS: inject("kafkaBrokers").join(","),
        RULES_TOPIC: s.topic,
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve({ code, signal, output }));
  });
}

async function outboxIds(s: Setup): Promise<{ id: string; rule_id: string; version: number; sent: boolean }[]> {
  return (await s.database.db.query(
    sql`SELECT id::text AS id, rule_id, version, sent_at IS NOT NULL AS sent FROM outbox ORDER BY outbox.id`,
  )) as { id: string; rule_id: string; version: number; sent: boolean }[];
}

async function eventually<T>(probe: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}; last value ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The contract the evaluator relies on: each outbox entry exactly once on the topic, in outbox order
 * (hence each rule's versions in version order), nothing secret, ticks and strangers' messages aside.
 */
async function expectExactlyOnce(s: Setup, streamId: string, messages: readonly TopicMessage[]): Promise<void> {
  const ours = messages.filter((m) => m.headers[HEADER_OUTBOX_STREAM] === streamId);
  const rows = await outboxIds(s);
  expect(rows.every((r) => r.sent)).toBe(true);
  expect(ours.map((m) => m.headers[HEADER_OUTBOX_ID])).toEqual(rows.map((r) => r.id));
  expect(ours.map((m) => m.key)).toEqual(rows.map((r) => r.rule_id));

  const byRule = new Map<string, number[]>();
  const events = (await s.database.db.query(sql`SELECT rule_id, version, type, effective_from FROM rule_events`)) as {
    rule_id: string;
    version: number;
    type: string;
    effective_from: Date | null;
  }[];
  const eventOf = new Map(events.map((e) => [`${e.rule_id}/${e.version}`, e]));
  for (const m of ours) {
    const row = rows.find((r) => r.id === m.headers[HEADER_OUTBOX_ID])!;
    const event = eventOf.get(`${row.rule_id}/${row.version}`)!;
    if (event.type === "deleted") {
      expect(m.value).toBeNull();
    } else {
      const value = RuleVersion.parse(JSON.parse(m.value!));
      expect(value).toMatchObject({ rule_id: row.rule_id, version: row.version });
    }
    for (const secret of SECRETS) expect(`${m.value ?? ""}${JSON.stringify(m.headers)}`).not.toContain(secret);
    // Each version is in force from its message's append time.
    expect(event.effective_from?.getTime()).toBe(m.timestamp);
    byRule.set(row.rule_id, [...(byRule.get(row.rule_id) ?? []), row.version]);
  }
  for (const versions of byRule.values()) {
    expect(versions).toEqual(versions.map((_, i) => i + 1));
  }
}

describe("outbox relay", () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setUp("relay_crash");
  });
  afterAll(async () => {
    await s.database.drop();
  });

  it("publishes every version exactly once, in order, although it is SIGKILLed mid-way, again and again", async () => {
    const streamId = (
      (await s.database.db.query(sql`SELECT stream_id FROM outbox_stream`)) as { stream_id: string }[]
    )[0]!.stream_id;
    // Before anything: a tick, and a message from another database's outbox that claims outbox id 1.
    await produceTick(s);
    const producer = s.kafka.producer();
    await producer.connect();
    await producer.send({
      topic: s.topic,
      messages: [
        { key: randomUUID(), value: "{}", headers: { [HEADER_OUTBOX_ID]: "1", [HEADER_OUTBOX_STREAM]: randomUUID() } },
      ],
    });
    await producer.disconnect();

    // Committed, not yet published: 4 rules × 2 versions + 2 deletions = 10 entries.
    await writeVersions(s, 4);
    expect(await countPendingOutbox(s.database.db)).toBe(10);

    // 1. Killed after the broker acknowledged a batch of 3, before marking it.
    const first = await runRelayChild(s, {
      RELAY_BATCH_SIZE: "3",
      RELAY_CRASH_AT: "after_publish",
      RELAY_CRASH_ON_BATCH: "1",
    });
    expect(first.signal).toBe("SIGKILL");
    expect(first.output).toContain("crash after_publish batch 1");
    expect(await countPendingOutbox(s.database.db)).toBe(10);
    await produceTick(s);

    // 2. The next relay recovers those 3 from the topic, then is killed before publishing the next batch.
    const second = await runRelayChild(s, {
      RELAY_BATCH_SIZE: "3",
      RELAY_CRASH_AT: "before_publish",
      RELAY_CRASH_ON_BATCH: "1",
    });
    expect(second.signal).toBe("SIGKILL");
    expect(second.output).toContain("marked entries a previous relay published");
    expect(await countPendingOutbox(s.database.db)).toBe(7);

    // More versions committed while no relay runs.
    await writeVersions(s, 1);
    await produceTick(s);

    // 3. Publishes and marks one batch, publishes the next, killed before marking it.
    const third = await runRelayChild(s, {
      RELAY_BATCH_SIZE: "3",
      RELAY_CRASH_AT: "after_publish",
      RELAY_CRASH_ON_BATCH: "2",
    });
    expect(third.signal).toBe("SIGKILL");
    expect(await countPendingOutbox(s.database.db)).toBe(10 + 3 - 6);

    // 4. Recovers those 3, sends the next batch in a transaction, killed before committing it.
    const fourth = await runRelayChild(s, {
      RELAY_BATCH_SIZE: "3",
      RELAY_CRASH_AT: "before_commit",
      RELAY_CRASH_ON_BATCH: "1",
    });
    expect(fourth.signal).toBe("SIGKILL");
    expect(fourth.output).toContain("crash before_commit batch 1");
    expect(await countPendingOutbox(s.database.db)).toBe(10 + 3 - 9);

    // 5. A relay that lives: recovers, publishes the rest, and keeps up with new writes (LISTEN/NOTIFY).
    const relay = startOutboxRelay({
      db: s.database.db,
      databaseUrl: s.database.url,
      kafka: s.kafka,
      topic: s.topic,
      batchSize: 3,
      log: silentLog,
      pollIntervalMs: 60_000,
    });
    try {
      await relay.active;
      await eventually(
        () => countPendingOutbox(s.database.db),
        (n) => n === 0,
        "the outbox to drain",
      );
      await writeVersions(s, 2);
      await eventually(
        () => countPendingOutbox(s.database.db),
        (n) => n === 0,
        "new writes to be published",
      );
    } finally {
      await relay.stop();
    }

    const messages = await readWholeTopic(s.kafka, s.topic);
    expect(messages.filter((m) => m.headers[HEADER_KIND] === "tick")).toHaveLength(3);
    // The batch killed before its commit is in the log, aborted: read_committed readers never see it.
    const everything = await readWholeTopic(s.kafka, s.topic, { readUncommitted: true });
    const ours = (list: readonly TopicMessage[]) =>
      list.filter((m) => m.headers[HEADER_OUTBOX_STREAM] === streamId).length;
    expect(ours(everything)).toBe(ours(messages) + 3);
    expect((await outboxIds(s)).length).toBe(10 + 3 + 5);
    await expectExactlyOnce(s, streamId, messages);
  });
});

describe("outbox relay lock", () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setUp("relay_lock");
  });
  afterAll(async () => {
    await s.database.drop();
  });

  it("lets one relay publish at a time; the next takes over when it stops", async () => {
    const streamId = (
      (await s.database.db.query(sql`SELECT stream_id FROM outbox_stream`)) as { stream_id: string }[]
    )[0]!.stream_id;
    const options = {
      db: s.database.db,
      databaseUrl: s.database.url,
      kafka: s.kafka,
      topic: s.topic,
      log: silentLog,
      pollIntervalMs: 60_000,
    };
    const waitingForLock = async () =>
      (
        (await s.database.db.query(
          sql`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`,
        )) as { n: number }[]
      )[0]?.n ?? -1;
    const a = startOutboxRelay(options);
    await a.active;
    const b = startOutboxRelay(options);
    let bActive = false;
    void b.active.then(() => (bActive = true));
    try {
      // b waits on the advisory lock that a holds.
      await eventually(waitingForLock, (n) => n === 1, "the second relay to wait for the lock");
      await writeVersions(s, 2);
      await eventually(
        () => countPendingOutbox(s.database.db),
        (n) => n === 0,
        "a to publish",
      );
      expect(bActive).toBe(false);

      await a.stop();
      await b.active;
      await writeVersions(s, 2);
      await eventually(
        () => countPendingOutbox(s.database.db),
        (n) => n === 0,
        "b to publish",
      );

      // A relay waiting for the lock stops at once, and stops waiting.
      const c = startOutboxRelay(options);
      await eventually(waitingForLock, (n) => n === 1, "the third relay to wait for the lock");
      await c.stop();
      await eventually(waitingForLock, (n) => n === 0, "the third relay to give up its wait");
    } finally {
      await a.stop();
      await b.stop();
    }
    await expectExactlyOnce(s, streamId, await readWholeTopic(s.kafka, s.topic));
  });

  it("fences a relay that lost its lock without knowing: its pending batch never becomes visible", async () => {
    const streamId = (
      (await s.database.db.query(sql`SELECT stream_id FROM outbox_stream`)) as { stream_id: string }[]
    )[0]!.stream_id;
    const base = {
      db: s.database.db,
      databaseUrl: s.database.url,
      kafka: s.kafka,
      topic: s.topic,
      log: silentLog,
      pollIntervalMs: 60_000,
    };
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reached: () => void = () => undefined;
    const atCommit = new Promise<void>((resolve) => (reached = resolve));
    let paused = false;
    const errors: string[] = [];
    // A stalls between sending a batch and committing it (a long pause, a partition)...
    const a = startOutboxRelay({
      ...base,
      lockKey: 1001,
      retryDelayMs: 60_000,
      log: { ...silentLog, error: (fields) => errors.push(String((fields as { err?: unknown }).err)) },
      faults: async (point) => {
        if (point === "before_commit" && !paused) {
          paused = true;
          reached();
          await gate;
        }
      },
    });
    let b: ReturnType<typeof startOutboxRelay> | undefined;
    try {
      await a.active;
      await writeVersions(s, 1);
      await atCommit;
      // ...and B, which believes it is alone (A's lock was lost: here, another lock key), takes over.
      b = startOutboxRelay({ ...base, lockKey: 1002 });
      await b.active;
      await eventually(
        () => countPendingOutbox(s.database.db),
        (n) => n === 0,
        "b to publish everything",
      );
      release();
      await eventually(
        () => Promise.resolve(errors.length),
        (n) => n > 0,
        "a's commit to be refused",
      );
      expect(errors.join("\n")).toMatch(/old epoch|fenced/i);
    } finally {
      release();
      await a.stop();
      await b?.stop();
    }
    await expectExactlyOnce(s, streamId, await readWholeTopic(s.kafka, s.topic));
  });
});
