import type { TestProject } from "vitest/node";
import { readInfraEnv, startStack, type Stack } from "@runhooks/infra";
import { createKafka } from "@runhooks/kafka";

declare module "vitest" {
  export interface ProvidedContext {
    kafkaBrokers: string[];
    databaseUrl: string;
  }
}

let stack: Stack | undefined;
/** The broker's topics before this run: the run deletes only the `test-` topics it created. */
let topicsBefore: ReadonlySet<string> | undefined;

const log = (line: string) => console.log(`[test-stack] ${line}`);
const admin = (brokers: string[]) => createKafka({ brokers, clientId: "runhooks-test-setup", logLevel: "error", logger: () => undefined }).admin();

/**
 * Starts the real broker and database once for the integration run — or reuses the ones already
 * running (`npm start`), or the configured KAFKA_BROKERS / DATABASE_URL — and stops only what it started.
 * Tests isolate themselves with their own topic prefix and their own database.
 */
export async function setup(project: TestProject): Promise<void> {
  stack = await startStack(readInfraEnv(), log);
  log(`Kafka ${stack.brokers.join(",")} (${stack.kafka}), PostgreSQL (${stack.postgres})`);
  // Best effort: without the list, the run deletes nothing at teardown (and still runs).
  const a = admin(stack.brokers);
  try {
    await a.connect();
    topicsBefore = new Set(await a.listTopics());
  } catch (error) {
    log(`could not list the broker's topics (${String(error)}); the run's topics will stay on it`);
  } finally {
    await a.disconnect().catch(() => undefined);
  }
  project.provide("kafkaBrokers", stack.brokers);
  project.provide("databaseUrl", stack.databaseUrl);
}

/**
 * Deletes the topics the run's tests created (each test file has its own `test-…` prefix): the broker's
 * data dir outlives the run — the local stack's state dir, or a broker the run reused — and a run left
 * ~150 topics behind in it, which a developer's broker carried from run to run. Then stops what it started.
 */
export async function teardown(): Promise<void> {
  if (stack !== undefined && topicsBefore !== undefined) {
    const before = topicsBefore;
    const a = admin(stack.brokers);
    try {
      await a.connect();
      const created = (await a.listTopics()).filter((t) => t.startsWith("test-") && !before.has(t));
      if (created.length > 0) await a.deleteTopics({ topics: created, timeout: 30_000 });
      log(`deleted the ${created.length} topics this run's tests created`);
    } catch (error) {
      log(`could not delete the topics this run's tests created (${String(error)}); they stay on the broker`);
    } finally {
      await a.disconnect().catch(() => undefined);
    }
  }
  await stack?.stop();
}
