import { randomBytes } from "node:crypto";
import type { TestProject } from "vitest/node";
import { readInfraEnv, startStack, type Stack } from "@runhooks/infra";
import { createKafka } from "@runhooks/kafka";

declare module "vitest" {
  export interface ProvidedContext {
    kafkaBrokers: string[];
    databaseUrl: string;
    /** This run's tag: every topic its tests create starts with `test-<runTag>-`. */
    runTag: string;
  }
}

let stack: Stack | undefined;
/**
 * Names this run's topics: runs that share a broker (two developers' suites, a suite beside a bench)
 * then delete only their own at teardown, never a topic another run is still using.
 */
const runTag = randomBytes(3).toString("hex");

const log = (line: string) => console.log(`[test-stack] ${line}`);
const admin = (brokers: string[]) =>
  createKafka({ brokers, clientId: "runhooks-test-setup", logLevel: "error", logger: () => undefined }).admin();

/**
 * Starts the real broker and database once for the integration run — or reuses the ones already
 * running (`npm start`), or the configured KAFKA_BROKERS / DATABASE_URL — and stops only what it started.
 * Tests isolate themselves with their own topic prefix and their own database.
 */
export async function setup(project: TestProject): Promise<void> {
  stack = await startStack(readInfraEnv(), log);
  log(`Kafka ${stack.brokers.join(",")} (${stack.kafka}), PostgreSQL (${stack.postgres}); topics test-${runTag}-*`);
  project.provide("kafkaBrokers", stack.brokers);
  project.provide("databaseUrl", stack.databaseUrl);
  project.provide("runTag", runTag);
}

/**
 * Deletes the topics the run's tests created (`test-<runTag>-…`): the broker's data dir outlives the
 * run — the local stack's state dir, or a broker the run reused — and would keep every run's topics.
 * Then stops what it started.
 */
export async function teardown(): Promise<void> {
  if (stack !== undefined) {
    const a = admin(stack.brokers);
    try {
      await a.connect();
      const created = (await a.listTopics()).filter((t) => t.startsWith(`test-${runTag}-`));
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
