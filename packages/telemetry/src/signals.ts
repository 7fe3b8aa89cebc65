import type { Logger } from "./log.js";

/**
 * A service's main: on the first SIGTERM or SIGINT, `stop()` (close what can be closed, commit, leave
 * the group), then exit 0, or 1 if stopping failed. Later signals are ignored while it stops: the
 * handlers stay installed, since a signal with none would end the process by its default action,
 * halfway through stopping. Returns what removes the handlers.
 */
export function stopOnSignals(
  stop: () => Promise<void>,
  log: Logger,
  exit: (code: number) => void = (code) => process.exit(code),
): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log("info", `received ${signal} while stopping; ignored`);
      return;
    }
    stopping = true;
    log("info", `received ${signal}; stopping`);
    stop().then(
      () => exit(0),
      (error: unknown) => {
        log("error", "error while stopping", { error: String(error) });
        exit(1);
      },
    );
  };
  const signals = ["SIGTERM", "SIGINT"] as const;
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
