import type { Meter } from "@opentelemetry/api";
import { observe, type MetricDef } from "@runhooks/telemetry";

/** The API's counters: plain numbers where things happen, read by the metrics at collection time. */
export interface ApiCounters {
  /** Keyed `<method> <route> <status>`. */
  readonly requests: Map<
    string,
    { readonly method: string; readonly route: string; readonly status: string; count: number }
  >;
  /** Rule versions (and deletions) the outbox relay published to the rules topic. */
  relayPublished: number;
  /** Relay rounds that failed and were retried. */
  relayFailures: number;
  /** Rule-error records stored from the rule-errors topic (re-publications not counted). */
  ruleErrorsStored: number;
}

export function createApiCounters(): ApiCounters {
  return { requests: new Map(), relayPublished: 0, relayFailures: 0, ruleErrorsStored: 0 };
}

export function countRequest(c: ApiCounters, method: string, route: string, status: number): void {
  const key = `${method} ${route} ${status}`;
  const entry = c.requests.get(key);
  if (entry) entry.count++;
  else c.requests.set(key, { method, route, status: String(status), count: 1 });
}

/** Every metric the API exports (on /metrics, and over OTLP when configured). */
export const API_METRICS = {
  requests: { name: "runhooks.api.requests", kind: "counter", help: "Requests answered, by method, route and status." },
  relayPublished: {
    name: "runhooks.api.relay_published",
    kind: "counter",
    help: "Outbox entries (rule versions, deletions) published to the rules topic.",
  },
  relayFailures: {
    name: "runhooks.api.relay_failures",
    kind: "counter",
    help: "Outbox relay rounds that failed and were retried.",
  },
  ruleErrorsStored: {
    name: "runhooks.api.rule_errors_stored",
    kind: "counter",
    help: "Rule-error records (a rule version's errors in one evaluator flush) stored for GET /rules/:id/errors.",
  },
} as const satisfies Record<string, MetricDef>;

export function registerApiMetrics(meter: Meter, c: ApiCounters): void {
  observe(meter, API_METRICS.requests, () =>
    [...c.requests.values()].map((r) => [{ method: r.method, route: r.route, status: r.status }, r.count] as const),
  );
  observe(meter, API_METRICS.relayPublished, () => c.relayPublished);
  observe(meter, API_METRICS.relayFailures, () => c.relayFailures);
  observe(meter, API_METRICS.ruleErrorsStored, () => c.ruleErrorsStored);
}
