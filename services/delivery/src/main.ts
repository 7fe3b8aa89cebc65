#!/usr/bin/env node
// Runs one delivery process from the environment; SIGTERM/SIGINT stop it gracefully, from the moment
// it starts: a signal during the start ends a wait for the instance lock, or stops the service as soon
// as it has started.
import { readDeliveryEnv } from "./env.js";
import { startDelivery } from "./index.js";
import { jsonLogger, stopOnSignals } from "@runhooks/telemetry";
import { deliveryOptionsFromEnv } from "./options.js";

const env = readDeliveryEnv();
const log = jsonLogger("delivery", env.RUNHOOKS_LOG_LEVEL);
const abort = new AbortController();
const starting = startDelivery({ ...deliveryOptionsFromEnv(env, log), signal: abort.signal });

stopOnSignals(async () => {
  abort.abort(new Error("stopped by a signal while starting"));
  const delivery = await starting.catch((error: unknown) => {
    log("info", "stopped before it had started", { error: String(error) });
    return undefined;
  });
  await delivery?.stop();
}, log);

// A start that fails (not by the signal) ends the process with its error, as any uncaught one.
await starting.catch((error: unknown) => {
  if (!abort.signal.aborted) throw error;
});
