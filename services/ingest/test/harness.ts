import { createApiKey, createTenant, migrate } from "@runhooks/db";
import { startIngest, type Ingest, type IngestOptions } from "@runhooks/ingest";
import { createKafka, ensureTopics, topicNames, topicSpecs, type TopicNames } from "@runhooks/kafka";
import type { Consumer, Kafka } from "kafkajs";
import { inject } from "vitest";
import { createTestDatabase, uniquePrefix, type TestDatabase } from "../../../test/support/stack.js";

export interface RunRecord {
  readonly key: string;
  readonly run: Record<string, unknown>;
  /** The message's `traceparent` header, when it has one. */
  readonly traceparent?: string;
}

/** A database, a topic prefix, a tenant with a key, and every message of the runs topic as it lands. */
export interface IngestHarness {
  readonly prefix: string;
  readonly topics: TopicNames;
  readonly brokers: readonly string[];
  readonly kafka: Kafka;
  readonly database: TestDatabase;
  readonly tenantId: string;
  readonly apiKey: string;
  readonly runs: RunRecord[];
  start(overrides?: Partial<IngestOptions>): Promise<Ingest>;
  /** Waits until `predicate` holds over the runs read so far. */
  waitForRuns(predicate: (runs: readonly RunRecord[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export const silent = (): void => undefined;

export async function createIngestHarness(
  label: string,
  brokers: readonly string[] = inject("kafkaBrokers"),
): Promise<IngestHarness> {
  const prefix = uniquePrefix(label);
  const topics = topicNames(prefix);
  const kafka = createKafka({ brokers, clientId: `ingest-${label}`, logLevel: "error", logger: () => undefined });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topicSpecs({ prefix, runsPartitions: 2, deliveryPartitions: 2 }));
  await admin.disconnect();
  const database = await createTestDatabase(label);
  await migrate(database.db);
  const tenant = await createTenant(database.db, { name: label });
  if (!tenant.ok) throw new Error("tenant exists");
  const key = await createApiKey(database.db, tenant.tenant.id, "ingest test");
  if (!key) throw new Error("no key");

  const runs: RunRecord[] = [];
  const consumer: Consumer = kafka.consumer({ groupId: `${prefix}-reader`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: topics.runs, fromBeginning: true });
  await consumer.run({
    eachMessage: ({ message }) => {
      if (message.headers?.["runhooks-kind"]?.toString() === "tick") return Promise.resolve();
      const traceparent = message.headers?.["traceparent"]?.toString();
      runs.push({
        key: message.key?.toString() ?? "",
        run: JSON.parse(message.value!.toString()) as Record<string, unknown>,
        ...(traceparent === undefined ? {} : { traceparent }),
      });
      return Promise.resolve();
    },
  });
  const started: Ingest[] = [];
  return {
    prefix,
    topics,
    brokers,
    kafka,
    database,
    tenantId: tenant.tenant.id,
    apiKey: key.key,
    runs,
    async start(overrides = {}) {
      const ingest = await startIngest({
        brokers,
        databaseUrl: database.url,
        topicPrefix: prefix,
        instanceId: `${label}-${started.length}`,
        host: "127.0.0.1",
        port: 0,
        migrate: false,
        log: silent,
        ...overrides,
      });
      started.push(ingest);
      return ingest;
    },
    async waitForRuns(predicate, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(runs)) {
        if (Date.now() > deadline)
          throw new Error(`runs topic never reached the expected state; read ${runs.length} runs`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      for (const ingest of started) await ingest.stop();
      await consumer.disconnect();
      await database.drop();
    },
  };
}
