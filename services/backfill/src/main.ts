#!/usr/bin/env node
// Runs one backfill process from the environment; SIGTERM/SIGINT stop it (a run stops at its checkpoint).
import { setPriority } from "node:os";
import { jsonLogger, stopOnSignals } from "@runhooks/telemetry";
import { readBackfillEnv } from "./env.js";
import { backfillOptionsFromEnv, startBackfillService } from "./index.js";

const env = readBackfillEnv();
const log = jsonLogger("backfill", env.RUNHOOKS_LOG_LEVEL);
// Live traffic first: the evaluators and delivery on this host get the CPU before a backfill does.
try {
  setPriority(env.RUNHOOKS_BACKFILL_NICE);
} catch (error) {
  log("warn", "could not lower the process priority", { error: String(error) });
}
const service = await startBackfillService(backfillOptionsFromEnv(env, log));
stopOnSignals(() => service.stop(), log);
