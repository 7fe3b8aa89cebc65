/**
 * Whether the windows consumer runs, from its lifecycle events. Pure. kafkajs restarts a consumer
 * that crashed on a retriable error (a broker restart, a lost coordinator) and joins the group again:
 * it is healthy again once it has joined. One that crashed for good stays unhealthy — /healthz says so
 * and a supervisor replaces the process.
 */
export type ConsumerEvent =
  /** `consumer.run` returned: it fetches. */
  | { readonly kind: "started" }
  /** It joined (or rejoined) the group: it runs. */
  | { readonly kind: "joined" }
  /** It crashed; `restart` says whether kafkajs restarts it. */
  | { readonly kind: "crashed"; readonly restart: boolean; readonly error: string }
  /** It was stopped (the service is stopping). */
  | { readonly kind: "stopped" };

export type ConsumerHealth =
  { readonly running: true } | { readonly running: false; readonly problem: string; readonly final: boolean };

export const CONSUMER_NOT_STARTED: ConsumerHealth = {
  running: false,
  problem: "the windows consumer has not started",
  final: false,
};

export function nextConsumerHealth(health: ConsumerHealth, event: ConsumerEvent): ConsumerHealth {
  switch (event.kind) {
    case "started":
    case "joined":
      // A consumer that crashed for good never joins again; a stray event does not revive it.
      return !health.running && health.final ? health : { running: true };
    case "crashed":
      return event.restart
        ? {
            running: false,
            problem: `the windows consumer crashed (${event.error}); it is being restarted`,
            final: false,
          }
        : {
            running: false,
            problem: `the windows consumer crashed and is not restarted (${event.error}); restart the service`,
            final: true,
          };
    case "stopped":
      return { running: false, problem: "the windows consumer is stopped", final: true };
  }
}
