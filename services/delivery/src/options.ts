import { jsonLogger, otelConfigFromEnv, type Logger, type OtelConfig } from "@runhooks/telemetry";
import { requireSecretsKeyring, type SecretKeyring } from "@runhooks/db";
import { kafkaSecurityOf, type KafkaSecurity } from "@runhooks/kafka";
import type { DeliveryEnv } from "./env.js";
import type { RetryPolicy } from "./policy.js";
import { DEFAULT_RETENTION, type RetentionSettings } from "./retention-policy.js";

export interface DeliveryOptions {
  readonly brokers: readonly string[];
  /** TLS and SASL to the brokers (KAFKA_TLS_*, KAFKA_SASL_*); default PLAINTEXT. */
  readonly kafkaSecurity?: KafkaSecurity;
  readonly databaseUrl: string;
  /** The keys opening webhook secrets (RUNHOOKS_SECRETS_KEY): a window's webhooks cannot be read without them. */
  readonly secrets: SecretKeyring | undefined;
  readonly topicPrefix: string;
  /**
   * The windows topic's consumer group (RUNHOOKS_DELIVERY_GROUP). Unset: `<prefix>-delivery`, or
   * `runhooks-delivery` while only that group holds checkpoints of the windows topic (group.ts).
   */
  readonly groupId?: string;
  readonly instanceId: string;
  readonly sessionTimeoutMs?: number;
  readonly concurrency?: number;
  readonly originConcurrency?: number;
  /** Deadline for a complete response; default 5 s (LangSmith's). */
  readonly timeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** Default: LangSmith's (2 retries for connect errors and 5xx; 1 s, 2 s backoff). */
  readonly policy?: RetryPolicy;
  readonly leaseMs?: number;
  readonly pollMs?: number;
  /**
   * When a webhook is disabled: failed deliveries in a row (0: never) and the least time since its last
   * success. Default: 20 and one day.
   */
  readonly disableAfter?: { readonly failures: number; readonly minSpanMs: number };
  /** SSRF guard; default: refuse loopback, private, link-local, metadata… */
  readonly allowPrivate?: boolean;
  readonly allowCidrs?: readonly string[];
  readonly dbPoolSize?: number;
  /**
   * POST on a thread of its own (default) or on the main event loop (the benchmark's comparison; a
   * machine with a single core).
   */
  readonly httpThread?: boolean;
  /** Apply pending migrations at start (under the migration lock); default true. */
  readonly migrate?: boolean;
  /** Health/metrics server; omit to run without one. */
  readonly http?: { readonly host: string; readonly port: number };
  readonly log?: Logger;
  /** OpenTelemetry (OTEL_* variables); default: no export, metrics on /metrics only. */
  readonly otel?: OtelConfig;
  /** Retention of bodies and records (default DEFAULT_RETENTION, a pass every 10 minutes). */
  readonly retention?: { readonly settings: RetentionSettings; readonly everyMs: number };
  /** Ends a start still waiting for its instance lock (startDelivery then rejects with the abort's reason). */
  readonly signal?: AbortSignal;
}

/** The delivery service's options as its environment sets them (main.ts and the engine's start share this). */
export function deliveryOptionsFromEnv(
  env: DeliveryEnv,
  log: Logger = jsonLogger("delivery", env.RUNHOOKS_LOG_LEVEL),
): DeliveryOptions {
  const retries = env.RUNHOOKS_DELIVERY_MAX_RETRIES;
  return {
    brokers: env.KAFKA_BROKERS,
    kafkaSecurity: kafkaSecurityOf(env),
    databaseUrl: env.DATABASE_URL,
    secrets: requireSecretsKeyring(env),
    topicPrefix: env.RUNHOOKS_TOPIC_PREFIX,
    ...(env.RUNHOOKS_DELIVERY_GROUP === undefined ? {} : { groupId: env.RUNHOOKS_DELIVERY_GROUP }),
    instanceId: env.RUNHOOKS_INSTANCE_ID,
    sessionTimeoutMs: env.RUNHOOKS_SESSION_TIMEOUT_MS,
    concurrency: env.RUNHOOKS_DELIVERY_CONCURRENCY,
    originConcurrency: env.RUNHOOKS_DELIVERY_ORIGIN_CONCURRENCY,
    timeoutMs: env.RUNHOOKS_DELIVERY_TIMEOUT_MS,
    connectTimeoutMs: env.RUNHOOKS_DELIVERY_CONNECT_TIMEOUT_MS,
    policy: { connectRetries: retries, serverErrorRetries: retries, backoffBaseMs: env.RUNHOOKS_DELIVERY_BACKOFF_MS },
    leaseMs: env.RUNHOOKS_DELIVERY_LEASE_MS,
    disableAfter: {
      failures: env.RUNHOOKS_DELIVERY_DISABLE_AFTER_FAILURES,
      minSpanMs: env.RUNHOOKS_DELIVERY_DISABLE_AFTER_MS,
    },
    pollMs: env.RUNHOOKS_DELIVERY_POLL_MS,
    allowPrivate: env.RUNHOOKS_DELIVERY_ALLOW_PRIVATE,
    allowCidrs: env.RUNHOOKS_DELIVERY_ALLOW_CIDRS,
    dbPoolSize: env.RUNHOOKS_DB_POOL_SIZE,
    httpThread: env.RUNHOOKS_DELIVERY_HTTP_THREAD,
    ...(env.RUNHOOKS_DELIVERY_PORT >= 0
      ? { http: { host: env.RUNHOOKS_DELIVERY_HOST, port: env.RUNHOOKS_DELIVERY_PORT } }
      : {}),
    log,
    otel: otelConfigFromEnv(env),
    retention: {
      settings: {
        ...DEFAULT_RETENTION,
        bodyDays: env.RUNHOOKS_RETENTION_BODY_DAYS,
        recordDays: env.RUNHOOKS_RETENTION_RECORD_DAYS,
      },
      everyMs: env.RUNHOOKS_RETENTION_INTERVAL_MS,
    },
  };
}
