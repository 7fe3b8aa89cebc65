#!/usr/bin/env node
// Runs one evaluator process from the environment; SIGTERM/SIGINT stop it gracefully.
import { readEvaluatorEnv } from "./env.js";
import { startEvaluator } from "./index.js";
import { jsonLogger } from "./log.js";

const env = readEvaluatorEnv();
const log = jsonLogger("evaluator", env.RUNHOOKS_LOG_LEVEL);
const evaluator = await startEvaluator({
  brokers: env.KAFKA_BROKERS,
  topicPrefix: env.RUNHOOKS_TOPIC_PREFIX,
  groupId: env.RUNHOOKS_EVALUATOR_GROUP,
  instanceId: env.RUNHOOKS_INSTANCE_ID,
  maxRunBytes: env.RUNHOOKS_MAX_RUN_BYTES,
  tickIntervalMs: env.RUNHOOKS_TICK_INTERVAL_MS,
  sessionTimeoutMs: env.RUNHOOKS_SESSION_TIMEOUT_MS,
  ...(env.RUNHOOKS_EVALUATOR_PORT >= 0 ? { http: { host: env.RUNHOOKS_EVALUATOR_HOST, port: env.RUNHOOKS_EVALUATOR_PORT } } : {}),
  log,
  // A supervisor (or `runhooks start`) restarts us; the new process refolds from the checkpoints.
  onFatal: () => process.exit(1),
});

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    log("info", `received ${signal}; stopping`);
    evaluator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log("error", "error while stopping", { error: String(error) });
        process.exit(1);
      },
    );
  });
}
