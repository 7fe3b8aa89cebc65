import { otelConfigFromEnv, type Logger } from "@runhooks/telemetry";
import type { IngestEnv } from "./env.js";
import type { IngestOptions } from "./index.js";

/** The ingest service's options as its environment sets them (main.ts and the engine share this). */
export function ingestOptionsFromEnv(env: IngestEnv, log: Logger): IngestOptions {
  return {
    brokers: env.KAFKA_BROKERS,
    databaseUrl: env.DATABASE_URL,
    topicPrefix: env.RUNHOOKS_TOPIC_PREFIX,
    instanceId: env.RUNHOOKS_INSTANCE_ID,
    host: env.RUNHOOKS_INGEST_HOST,
    port: env.RUNHOOKS_INGEST_PORT,
    maxBodyBytes: env.RUNHOOKS_INGEST_MAX_BODY_BYTES,
    batchSize: env.RUNHOOKS_INGEST_BATCH_SIZE,
    maxRunBytes: env.RUNHOOKS_MAX_RUN_BYTES,
    pendingTtlMs: env.RUNHOOKS_INGEST_PENDING_TTL_MS,
    produceTimeoutMs: env.RUNHOOKS_INGEST_PRODUCE_TIMEOUT_MS,
    retryAfterSeconds: env.RUNHOOKS_INGEST_RETRY_AFTER_S,
    keyCacheMs: env.RUNHOOKS_INGEST_KEY_CACHE_MS,
    dbPoolSize: env.RUNHOOKS_DB_POOL_SIZE,
    log,
    otel: otelConfigFromEnv(env),
  };
}
