#!/usr/bin/env node
// Runs one delivery process from the environment; SIGTERM/SIGINT stop it gracefully.
import { readDeliveryEnv } from "./env.js";
import { startDelivery } from "./index.js";
import { jsonLogger, stopOnSignals } from "@runhooks/telemetry";
import { deliveryOptionsFromEnv } from "./options.js";

const env = readDeliveryEnv();
const log = jsonLogger("delivery", env.RUNHOOKS_LOG_LEVEL);
const delivery = await startDelivery(deliveryOptionsFromEnv(env, log));

stopOnSignals(() => delivery.stop(), log);
