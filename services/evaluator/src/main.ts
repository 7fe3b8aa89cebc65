#!/usr/bin/env node
// Runs one evaluator process from the environment; SIGTERM/SIGINT stop it gracefully.
import { readEvaluatorEnv } from "./env.js";
import { startEvaluator } from "./index.js";
import { evaluatorOptionsFromEnv } from "./options.js";
import { jsonLogger } from "./log.js";

const env = readEvaluatorEnv();
const log = jsonLogger("evaluator", env.RUNHOOKS_LOG_LEVEL);
const evaluator = await startEvaluator({
  ...evaluatorOptionsFromEnv(env, log),
  // A supervisor (or `npm start`) restarts us; the new process refolds from the checkpoints.
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
