import type { TestProject } from "vitest/node";
import { readInfraEnv, startStack, type Stack } from "@runhooks/infra";

declare module "vitest" {
  export interface ProvidedContext {
    kafkaBrokers: string[];
    databaseUrl: string;
  }
}

let stack: Stack | undefined;

/**
 * Starts the real broker and database once for the integration run — or reuses the ones already
 * running (`npm start`), or the configured KAFKA_BROKERS / DATABASE_URL — and stops only what it started.
 * Tests isolate themselves with their own topic prefix and their own database.
 */
export async function setup(project: TestProject): Promise<void> {
  const log = (line: string) => console.log(`[test-stack] ${line}`);
  stack = await startStack(readInfraEnv(), log);
  log(`Kafka ${stack.brokers.join(",")} (${stack.kafka}), PostgreSQL (${stack.postgres})`);
  project.provide("kafkaBrokers", stack.brokers);
  project.provide("databaseUrl", stack.databaseUrl);
}

export async function teardown(): Promise<void> {
  await stack?.stop();
}
