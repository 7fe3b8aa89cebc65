import type { EvaluatorEnv } from "./env.js";
import type { EvaluatorOptions } from "./index.js";
import { otelConfigFromEnv, type Logger } from "@runhooks/telemetry";

/** The evaluator's options as its environment sets them (main.ts and the engine's start share this). */
export function evaluatorOptionsFromEnv(env: EvaluatorEnv, log: Logger): EvaluatorOptions {
  return {
    brokers: env.KAFKA_BROKERS,
    topicPrefix: env.RUNHOOKS_TOPIC_PREFIX,
    groupId: env.RUNHOOKS_EVALUATOR_GROUP,
    instanceId: env.RUNHOOKS_INSTANCE_ID,
    maxRunBytes: env.RUNHOOKS_MAX_RUN_BYTES,
    maxRunDepth: env.RUNHOOKS_MAX_RUN_DEPTH,
    tickIntervalMs: env.RUNHOOKS_TICK_INTERVAL_MS,
    sessionTimeoutMs: env.RUNHOOKS_SESSION_TIMEOUT_MS,
    ...(env.RUNHOOKS_EVALUATOR_PORT >= 0 ? { http: { host: env.RUNHOOKS_EVALUATOR_HOST, port: env.RUNHOOKS_EVALUATOR_PORT } } : {}),
    log,
    otel: otelConfigFromEnv(env),
  };
}
