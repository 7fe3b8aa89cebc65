import { requireSecretsKeyring } from "@runhooks/db";
import { kafkaSecurityOf } from "@runhooks/kafka";
import { otelConfigFromEnv } from "@runhooks/telemetry";
import type { ApiEnv } from "./env.js";
import { HOUR_MS, type ApiLimits } from "./limits.js";
import type { StartApiOptions } from "./start.js";

export function apiLimitsFromEnv(env: ApiEnv): ApiLimits {
  return {
    rules: {
      maxRulesPerTenant: env.RUNHOOKS_API_MAX_RULES_PER_TENANT,
      maxVersionsPerMinute: env.RUNHOOKS_API_MAX_RULE_VERSIONS_PER_MINUTE,
    },
    maxReplayRangeMs: env.RUNHOOKS_API_MAX_REPLAY_HOURS * HOUR_MS,
  };
}

/**
 * The API's options as its environment sets them (main.ts and the engine share this). `logger`: the
 * fastify (pino) logger options; default the level RUNHOOKS_LOG_LEVEL names.
 */
export function apiOptionsFromEnv(
  env: ApiEnv,
  logger: StartApiOptions["logger"] = { level: env.RUNHOOKS_LOG_LEVEL },
): StartApiOptions {
  return {
    databaseUrl: env.DATABASE_URL,
    secrets: requireSecretsKeyring(env),
    kafkaBrokers: env.KAFKA_BROKERS,
    kafkaSecurity: kafkaSecurityOf(env),
    topicPrefix: env.RUNHOOKS_TOPIC_PREFIX,
    host: env.RUNHOOKS_API_HOST,
    port: env.RUNHOOKS_API_PORT,
    adminKey: env.RUNHOOKS_ADMIN_KEY,
    logger,
    relay: env.RUNHOOKS_API_RELAY,
    ruleErrors:
      env.RUNHOOKS_API_RULE_ERRORS &&
      (env.RUNHOOKS_API_RULE_ERRORS_GROUP === undefined ? {} : { groupId: env.RUNHOOKS_API_RULE_ERRORS_GROUP }),
    otel: otelConfigFromEnv(env),
    limits: apiLimitsFromEnv(env),
    dryRun: {
      maxRuns: env.RUNHOOKS_API_DRY_RUN_MAX_RUNS,
      maxBytes: env.RUNHOOKS_API_DRY_RUN_MAX_BYTES,
      maxSteps: env.RUNHOOKS_API_DRY_RUN_MAX_STEPS,
    },
    rateLimit: { ratePerSecond: env.RUNHOOKS_API_RATE_PER_S, burst: env.RUNHOOKS_API_RATE_BURST },
    wrongKeyCacheMs: env.RUNHOOKS_API_WRONG_KEY_CACHE_MS,
  };
}
