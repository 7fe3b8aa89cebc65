#!/usr/bin/env node
// Runs one delivery process from the environment; SIGTERM/SIGINT stop it gracefully.
import { readDeliveryEnv } from "./env.js";
import { startDelivery } from "./index.js";
import { jsonLogger } from "./log.js";
import { deliveryOptionsFromEnv } from "./options.js";

const env = readDeliveryEnv();
const log = jsonLogger("delivery", env.RUNHOOKS_LOG_LEVEL);
const delivery = await startDelivery(deliveryOptionsFromEnv(env, log));

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
