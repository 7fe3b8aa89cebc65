#!/usr/bin/env -S node --max-semi-space-size=32
// Runs one ingest process from the environment; SIGTERM/SIGINT stop it gracefully. The shebang's flags
// are INGEST_NODE_FLAGS (node-flags.ts).
import { jsonLogger, stopOnSignals } from "@runhooks/telemetry";
import { readIngestEnv } from "./env.js";
import { startIngest } from "./index.js";
import { ingestOptionsFromEnv } from "./options.js";

const env = readIngestEnv();
const log = jsonLogger("ingest", env.RUNHOOKS_LOG_LEVEL);
const ingest = await startIngest(ingestOptionsFromEnv(env, log));
stopOnSignals(() => ingest.stop(), log);
