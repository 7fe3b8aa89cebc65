#!/usr/bin/env node
// Runs one ingest process from the environment; SIGTERM/SIGINT stop it gracefully.
import { jsonLogger, stopOnSignals } from "@runhooks/telemetry";
import { readIngestEnv } from "./env.js";
import { startIngest } from "./index.js";
import { ingestOptionsFromEnv } from "./options.js";

const env = readIngestEnv();
const log = jsonLogger("ingest", env.RUNHOOKS_LOG_LEVEL);
const ingest = await startIngest(ingestOptionsFromEnv(env, log));
stopOnSignals(() => ingest.stop(), log);
