#!/usr/bin/env node
// Runs one delivery process from the environment; SIGTERM/SIGINT stop it gracefully.
import { readDeliveryEnv } from "./env.js";
import { startDelivery } from "./index.js";
import { jsonLogger } from "./log.js";

const env = readDeliveryEnv();
const log = jsonLogger("delivery", env.RUNHOOKS_LOG_LEVEL);
const retries = env.RUNHOOKS_DELIVERY_MAX_RETRIES;
const delivery = await startDelivery({
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
  ...(env.RUNHOOKS_DELIVERY_PORT >= 0 ? { http: { host: env.RUNHOOKS_DELIVERY_HOST, port: env.RUNHOOKS_DELIVERY_PORT } } : {}),
  log,
});

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    log("info", `received ${signal}; stopping`);
    delivery.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log("error", "error while stopping", { error: String(error) });
        process.exit(1);
      },
    );
  });
}
