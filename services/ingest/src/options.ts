import { otelConfigFromEnv, type Logger, type OtelConfig } from "@runhooks/telemetry";
import { kafkaSecurityOf, type KafkaSecurity } from "@runhooks/kafka";
import type { IngestEnv } from "./env.js";

export interface IngestOptions {
  readonly brokers: readonly string[];
  /** TLS and SASL to the brokers (KAFKA_TLS_*, KAFKA_SASL_*); default PLAINTEXT. */
  readonly kafkaSecurity?: KafkaSecurity;
  readonly databaseUrl: string;
  readonly topicPrefix: string;
  readonly instanceId: string;
  readonly host: string;
  /** 0 picks a free port (see `url`). */
  readonly port: number;
  readonly maxBodyBytes?: number;
  readonly batchSize?: number;
  readonly maxRunBytes?: number;
  readonly pendingTtlMs?: number;
  readonly produceTimeoutMs?: number;
  readonly retryAfterSeconds?: number;
  readonly keyCacheMs?: number;
  readonly wrongKeyCacheMs?: number;
  /** Requests per second and burst per API key (token bucket). */
  readonly ratePerSecond?: number;
  readonly rateBurst?: number;
  readonly maxParts?: number;
  readonly maxJsonDepth?: number;
  readonly maxPendingPerTenant?: number;
  readonly maxProjectsPerTenant?: number;
  readonly headersTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly keepAliveTimeoutMs?: number;
  readonly maxConnections?: number;
  readonly dbPoolSize?: number;
  /** Apply pending migrations at start (under the migration lock); default true. */
  readonly migrate?: boolean;
  readonly log?: Logger;
  /** OpenTelemetry (OTEL_* variables): a producer span per accepted run, its context in the run's headers. */
  readonly otel?: OtelConfig;
}

/** The ingest service's options as its environment sets them (main.ts and the engine share this). */
export function ingestOptionsFromEnv(env: IngestEnv, log: Logger): IngestOptions {
  return {
    brokers: env.KAFKA_BROKERS,
    kafkaSecurity: kafkaSecurityOf(env),
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
    wrongKeyCacheMs: env.RUNHOOKS_INGEST_WRONG_KEY_CACHE_MS,
    ratePerSecond: env.RUNHOOKS_INGEST_RATE_PER_S,
    rateBurst: env.RUNHOOKS_INGEST_RATE_BURST,
    maxParts: env.RUNHOOKS_INGEST_MAX_PARTS,
    maxJsonDepth: env.RUNHOOKS_INGEST_MAX_JSON_DEPTH,
    maxPendingPerTenant: env.RUNHOOKS_INGEST_MAX_PENDING_PER_TENANT,
    maxProjectsPerTenant: env.RUNHOOKS_INGEST_MAX_PROJECTS_PER_TENANT,
    headersTimeoutMs: env.RUNHOOKS_INGEST_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: env.RUNHOOKS_INGEST_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: env.RUNHOOKS_INGEST_KEEPALIVE_TIMEOUT_MS,
    maxConnections: env.RUNHOOKS_INGEST_MAX_CONNECTIONS,
    dbPoolSize: env.RUNHOOKS_DB_POOL_SIZE,
    log,
    otel: otelConfigFromEnv(env),
  };
}
