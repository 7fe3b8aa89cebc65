import type { AttemptOutcome } from "@runhooks/contracts";

/** The delivery service's counters, exposed on /metrics in Prometheus text format. */
export interface Counters {
  windowsRead: number;
  windowsStored: number;
  /** Windows read again (a replay, or a restart before the commit): nothing new was stored. */
  windowsDuplicate: number;
  /** Messages on the windows topic that are not a valid window: logged with their offset, skipped. */
  windowsInvalid: number;
  /** Windows with nothing to deliver to, by reason (`no_webhooks`, `unknown_rule_version`). */
  windowsWithoutWebhooks: Record<string, number>;
  deliveriesCreated: number;
  /** Deliveries that reached a final state here, by state. */
  deliveriesFinal: Record<"succeeded" | "failed", number>;
  retriesScheduled: number;
  /** Attempts recorded, by outcome; `interrupted` for those whose worker stopped mid-attempt. */
  attempts: Partial<Record<AttemptOutcome, number>>;
  /** Attempts whose delivery had been reclaimed meanwhile (lease expired): recorded, not applied. */
  attemptsStale: number;
  attemptsPublished: number;
  publishFailures: number;
  databaseErrors: number;
}

export function createCounters(): Counters {
  return {
    windowsRead: 0,
    windowsStored: 0,
    windowsDuplicate: 0,
    windowsInvalid: 0,
    windowsWithoutWebhooks: {},
    deliveriesCreated: 0,
    deliveriesFinal: { succeeded: 0, failed: 0 },
    retriesScheduled: 0,
    attempts: {},
    attemptsStale: 0,
    attemptsPublished: 0,
    publishFailures: 0,
    databaseErrors: 0,
  };
}

export function prometheusText(c: Counters, gauges: Record<string, number>): string {
  const lines: string[] = [];
  const family = (name: string, help: string, type: "counter" | "gauge") => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  const counter = (name: string, help: string, value: number) => {
    family(name, help, "counter");
    lines.push(`${name} ${value}`);
  };
  const labelled = (name: string, help: string, label: string, values: Record<string, number | undefined>) => {
    family(name, help, "counter");
    for (const [key, n] of Object.entries(values)) lines.push(`${name}{${label}="${key}"} ${n ?? 0}`);
  };
  counter("runhooks_delivery_windows_read_total", "Window messages read from the windows topic.", c.windowsRead);
  counter("runhooks_delivery_windows_stored_total", "Windows stored for delivery.", c.windowsStored);
  counter("runhooks_delivery_windows_duplicate_total", "Windows read again and already stored (no-op).", c.windowsDuplicate);
  counter("runhooks_delivery_windows_invalid_total", "Messages on the windows topic that were not valid windows.", c.windowsInvalid);
  labelled("runhooks_delivery_windows_without_webhooks_total", "Windows with nothing to deliver to.", "reason", c.windowsWithoutWebhooks);
  counter("runhooks_delivery_deliveries_created_total", "Deliveries created (one per window and webhook).", c.deliveriesCreated);
  labelled("runhooks_delivery_deliveries_total", "Deliveries that reached a final state, by state.", "status", c.deliveriesFinal);
  counter("runhooks_delivery_retries_scheduled_total", "Retries scheduled by the policy.", c.retriesScheduled);
  labelled("runhooks_delivery_attempts_total", "Attempts recorded, by outcome.", "outcome", c.attempts);
  counter("runhooks_delivery_attempts_stale_total", "Attempts recorded after their delivery had been reclaimed.", c.attemptsStale);
  counter("runhooks_delivery_attempts_published_total", "Attempt messages published to the attempts topic.", c.attemptsPublished);
  counter("runhooks_delivery_publish_failures_total", "Failed publishes to the attempts topic (retried by the sweeper).", c.publishFailures);
  counter("runhooks_delivery_database_errors_total", "Database operations that failed (and were retried).", c.databaseErrors);
  for (const [name, value] of Object.entries(gauges)) {
    lines.push(`# TYPE ${name} gauge`, `${name} ${value}`);
  }
  return `${lines.join("\n")}\n`;
}
