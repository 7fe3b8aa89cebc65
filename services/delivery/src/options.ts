import type { DeliveryEnv } from "./env.js";
import type { DeliveryOptions } from "./index.js";
import { jsonLogger, otelConfigFromEnv, type Logger } from "@runhooks/telemetry";

/** The delivery service's options as its environment sets them (main.ts and the engine's start share this). */
export function deliveryOptionsFromEnv(env: DeliveryEnv, log: Logger = jsonLogger("delivery", env.RUNHOOKS_LOG_LEVEL)): DeliveryOptions {
  const retries = env.RUNHOOKS_DELIVERY_MAX_RETRIES;
  return {
    brokers: env.KAFKA_BROKERS,
    databaseUrl: env.DATABASE_URL,
    topicPrefix: env.RUNHOOKS_TOPIC_PREFIX,
    groupId: env.RUNHOOKS_DELIVERY_GROUP,
    instanceId: env.RUNHOOKS_INSTANCE_ID,
    sessionTimeoutMs: env.RUNHOOKS_SESSION_TIMEOUT_MS,
    concurrency: env.RUNHOOKS_DELIVERY_CONCURRENCY,
    originConcurrency: env.RUNHOOKS_DELIVERY_ORIGIN_CONCURRENCY,
    timeoutMs: env.RUNHOOKS_DELIVERY_TIMEOUT_MS,
    connectTimeoutMs: env.RUNHOOKS_DELIVERY_CONNECT_TIMEOUT_MS,
    policy: { connectRetries: retries, serverErrorRetries: retries, backoffBaseMs: env.RUNHOOKS_DELIVERY_BACKOFF_MS },
    leaseMs: env.RUNHOOKS_DELIVERY_LEASE_MS,
    pollMs: env.RUNHOOKS_DELIVERY_POLL_MS,
    allowPrivate: env.RUNHOOKS_DELIVERY_ALLOW_PRIVATE,
    allowCidrs: env.RUNHOOKS_DELIVERY_ALLOW_CIDRS,
    dbPoolSize: env.RUNHOOKS_DB_POOL_SIZE,
    httpThread: env.RUNHOOKS_DELIVERY_HTTP_THREAD,
    ...(env.RUNHOOKS_DELIVERY_PORT >= 0 ? { http: { host: env.RUNHOOKS_DELIVERY_HOST, port: env.RUNHOOKS_DELIVERY_PORT } } : {}),
    log,
    otel: otelConfigFromEnv(env),
  };
}
