#!/usr/bin/env node
// The API service: `node services/api/dist/main.js`, configured by the environment (env.ts).
import { redactDatabaseUrl } from "@runhooks/db";
import { otelConfigFromEnv } from "@runhooks/telemetry";
import { apiLimitsFromEnv, readApiEnv } from "./env.js";
import { startApi } from "./start.js";

async function main(): Promise<void> {
  const env = readApiEnv();
  const api = await startApi({
    databaseUrl: env.DATABASE_URL,
    kafkaBrokers: env.KAFKA_BROKERS,
    topicPrefix: env.RUNHOOKS_TOPIC_PREFIX,
    host: env.RUNHOOKS_API_HOST,
    port: env.RUNHOOKS_API_PORT,
    adminKey: env.RUNHOOKS_ADMIN_KEY,
    logger: { level: env.RUNHOOKS_LOG_LEVEL },
    relay: env.RUNHOOKS_API_RELAY,
    ruleErrors: env.RUNHOOKS_API_RULE_ERRORS && (env.RUNHOOKS_API_RULE_ERRORS_GROUP === undefined ? {} : { groupId: env.RUNHOOKS_API_RULE_ERRORS_GROUP }),
    otel: otelConfigFromEnv(env),
    limits: apiLimitsFromEnv(env),
    dryRun: {
      maxRuns: env.RUNHOOKS_API_DRY_RUN_MAX_RUNS,
      maxBytes: env.RUNHOOKS_API_DRY_RUN_MAX_BYTES,
      maxSteps: env.RUNHOOKS_API_DRY_RUN_MAX_STEPS,
    },
    rateLimit: { ratePerSecond: env.RUNHOOKS_API_RATE_PER_S, burst: env.RUNHOOKS_API_RATE_BURST },
    wrongKeyCacheMs: env.RUNHOOKS_API_WRONG_KEY_CACHE_MS,
  });
  console.error(
    `[runhooks-api] listening on ${api.url} (database ${redactDatabaseUrl(env.DATABASE_URL)}, ` +
      `relay ${env.RUNHOOKS_API_RELAY ? "on" : "off"}, admin API ${env.RUNHOOKS_ADMIN_KEY ? "on" : "off"})`,
  );
  const signal = await new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  console.error(`[runhooks-api] ${signal}: shutting down`);
  await api.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error("[runhooks-api] failed:", error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
