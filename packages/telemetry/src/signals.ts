import type { Logger } from "./log.js";

/**
 * A service's main: on the first SIGTERM or SIGINT, `stop()` (close what can be closed, commit, leave
 * the group), then exit 0, or 1 if stopping failed. Later signals are ignored while it stops.
 */
export function stopOnSignals(stop: () => Promise<void>, log: Logger): void {
  let stopping = false;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      if (stopping) return;
      stopping = true;
      log("info", `received ${signal}; stopping`);
      stop().then(
        () => process.exit(0),
        (error: unknown) => {
          log("error", "error while stopping", { error: String(error) });
          process.exit(1);
        },
      );
    });
  }
}
