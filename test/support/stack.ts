import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { connectDatabase, parseSecretKeys, sql, type Database, type SecretKeyring } from "@runhooks/db";
import { createKafka } from "@runhooks/kafka";
import type { Kafka } from "kafkajs";

/**
 * A topic prefix no other test uses, so tests share the broker without seeing each other. It starts
 * with the run's tag, which is how the run finds its own topics to delete at teardown.
 */
export function uniquePrefix(label: string): string {
  return `test-${inject("runTag")}-${label}-${randomBytes(4).toString("hex")}`;
}

export function testKafka(clientId = "runhooks-test"): Kafka {
  return createKafka({ brokers: inject("kafkaBrokers"), clientId, logLevel: "error", logger: () => undefined });
}

/** The secrets key of every test service and test database (`RUNHOOKS_SECRETS_KEY` of spawned services). */
export const TEST_SECRETS_KEY = Buffer.alloc(32, 0x5e).toString("base64url");

/** The keyring of TEST_SECRETS_KEY: a fixed test key, sealing like any other. */
export const TEST_SECRETS: SecretKeyring = (() => {
  const parsed = parseSecretKeys(TEST_SECRETS_KEY);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.keyring;
})();

export interface TestDatabase {
  readonly url: string;
  readonly db: Database;
  drop(): Promise<void>;
}

/** A fresh, empty database on the test server, dropped by `drop()`. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const serverUrl = new URL(inject("databaseUrl"));
  const name = `rh_${label}_${randomBytes(4).toString("hex")}`.toLowerCase();
  const adminUrl = new URL(serverUrl);
  adminUrl.pathname = "/postgres";
  const admin = connectDatabase({ url: adminUrl.toString(), poolSize: 1 });
  await admin.query(sql`CREATE DATABASE ${sql.ident(name)}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = connectDatabase({ url: url.toString(), poolSize: 4, secrets: TEST_SECRETS });
  return {
    url: url.toString(),
    db,
    async drop() {
      await db.dispose();
      await admin.query(sql`DROP DATABASE IF EXISTS ${sql.ident(name)} WITH (FORCE)`);
      await admin.dispose();
    },
  };
}
