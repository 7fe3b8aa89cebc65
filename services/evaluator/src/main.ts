#!/usr/bin/env -S node --max-semi-space-size=8
// Runs one evaluator process from the environment; SIGTERM/SIGINT stop it gracefully. The shebang's
// flags are EVALUATOR_NODE_FLAGS (node-flags.ts).
import { readEvaluatorEnv } from "./env.js";
import { startEvaluator } from "./index.js";
import { evaluatorOptionsFromEnv } from "./options.js";
import { jsonLogger, stopOnSignals } from "@runhooks/telemetry";

const env = readEvaluatorEnv();
const log = jsonLogger("evaluator", env.RUNHOOKS_LOG_LEVEL);
const evaluator = await startEvaluator({
  ...evaluatorOptionsFromEnv(env, log),
  // A supervisor (or `npm start`) restarts us; the new process refolds from the checkpoints.
  onFatal: () => process.exit(1),
});

stopOnSignals(() => evaluator.stop(), log);
