import { SECONDS_BUCKETS, histogram, labelled, observe, type ConsumerLag, type MetricDef } from "@runhooks/telemetry";
import type { Histogram, Meter } from "@opentelemetry/api";
import type { Counters } from "./counters.js";

/** Every metric the delivery service exports (on /metrics, and over OTLP when configured). */
export const DELIVERY_METRICS = {
  partsRead: {
    name: "runhooks.delivery.parts_read",
    kind: "counter",
    help: "Window parts read from the windows topic.",
  },
  partsDuplicate: {
    name: "runhooks.delivery.parts_duplicate",
    kind: "counter",
    help: "Window parts that added nothing (already assembled or held), by reason.",
  },
  watermarksRead: {
    name: "runhooks.delivery.watermarks_read",
    kind: "counter",
    help: "Runs partitions' watermarks read from the windows topic.",
  },
  windowsCompleted: {
    name: "runhooks.delivery.windows_completed",
    kind: "counter",
    help: "Windows assembled over every runs partition (one per chunk of at most max_runs runs).",
  },
  windowsStored: { name: "runhooks.delivery.windows_stored", kind: "counter", help: "Windows stored for delivery." },
  windowsDuplicate: {
    name: "runhooks.delivery.windows_duplicate",
    kind: "counter",
    help: "Windows completed again and already stored (no-op).",
  },
  windowsInvalid: {
    name: "runhooks.delivery.windows_invalid",
    kind: "counter",
    help: "Messages on the windows topic that were neither a valid part nor a valid watermark, and bundle entries refused alone as invalid.",
  },
  windowsDeadLettered: {
    name: "runhooks.delivery.windows_dead_lettered",
    kind: "counter",
    help: "Messages of the windows topic dead-lettered, by reason (invalid, or not matching the rule store).",
  },
  windowsWithoutWebhooks: {
    name: "runhooks.delivery.windows_without_webhooks",
    kind: "counter",
    help: "Windows with nothing to deliver to, by reason.",
  },
  deliveriesCreated: {
    name: "runhooks.delivery.deliveries_created",
    kind: "counter",
    help: "Deliveries created (one per window and webhook).",
  },
  deliveries: {
    name: "runhooks.delivery.deliveries",
    kind: "counter",
    help: "Deliveries that reached a final state, by status (succeeded, failed).",
  },
  retriesScheduled: {
    name: "runhooks.delivery.retries_scheduled",
    kind: "counter",
    help: "Retries scheduled by the policy.",
  },
  attempts: { name: "runhooks.delivery.attempts", kind: "counter", help: "Attempts recorded, by outcome." },
  attemptsStale: {
    name: "runhooks.delivery.attempts_stale",
    kind: "counter",
    help: "Attempts recorded after their delivery had been reclaimed.",
  },
  attemptsPublished: {
    name: "runhooks.delivery.attempts_published",
    kind: "counter",
    help: "Attempt messages published to the attempts topic.",
  },
  publishFailures: {
    name: "runhooks.delivery.publish_failures",
    kind: "counter",
    help: "Failed publishes to the attempts topic (retried by the sweeper).",
  },
  databaseErrors: {
    name: "runhooks.delivery.database_errors",
    kind: "counter",
    help: "Database operations that failed (and were retried).",
  },
  windowsStoreRefused: {
    name: "runhooks.delivery.windows_store_refused",
    kind: "counter",
    help: "Window stores PostgreSQL refused (a defect: retried, the windows partition waits; the log has the error).",
  },
  attemptsInFlight: { name: "runhooks.delivery.attempts_in_flight", kind: "gauge", help: "Attempts being sent now." },
  attemptsUnrecorded: {
    name: "runhooks.delivery.attempts_unrecorded",
    kind: "gauge",
    help: "Attempts finished but not yet written to Postgres.",
  },
  attemptsUnpublished: {
    name: "runhooks.delivery.attempts_unpublished",
    kind: "gauge",
    help: "Attempts finished but neither on the attempts topic nor recorded yet.",
  },
  payloadCacheBytes: {
    name: "runhooks.delivery.payload_cache_bytes",
    kind: "gauge",
    help: "Bytes of window bodies cached in memory.",
  },
  consumerLag: {
    name: "runhooks.delivery.consumer_lag",
    kind: "gauge",
    help: "Messages behind the high watermark, per partition of the windows topic, after the last batch.",
  },
  attemptDuration: {
    name: "runhooks.delivery.attempt_duration_seconds",
    kind: "histogram",
    unit: "s",
    help: "Duration of webhook attempts (request to response excerpt), by outcome.",
    buckets: SECONDS_BUCKETS,
  },
  endToEndLatency: {
    name: "runhooks.delivery.end_to_end_latency_seconds",
    kind: "histogram",
    unit: "s",
    help: "From the start of a window (no run in it was logged earlier) to its successful delivery: an upper bound on each of its runs' log-time-to-webhook latency.",
    buckets: SECONDS_BUCKETS,
  },
} as const satisfies Record<string, MetricDef>;

export interface DeliveryGauges {
  readonly attemptsInFlight: () => number;
  readonly attemptsUnrecorded: () => number;
  readonly attemptsUnpublished: () => number;
  readonly payloadCacheBytes: () => number;
}

export interface DeliveryHistograms {
  readonly attemptDuration: Histogram;
  readonly endToEndLatency: Histogram;
}

/** Registers the delivery service's metrics: counters and gauges read at collection time, histograms recorded per attempt. */
export function registerDeliveryMetrics(
  meter: Meter,
  c: Counters,
  gauges: DeliveryGauges,
  lag: ConsumerLag,
): DeliveryHistograms {
  const m = DELIVERY_METRICS;
  observe(meter, m.partsRead, () => c.partsRead);
  observe(meter, m.partsDuplicate, () => labelled("reason", c.partsDuplicate));
  observe(meter, m.watermarksRead, () => c.watermarksRead);
  observe(meter, m.windowsCompleted, () => c.windowsCompleted);
  observe(meter, m.windowsStored, () => c.windowsStored);
  observe(meter, m.windowsDuplicate, () => c.windowsDuplicate);
  observe(meter, m.windowsInvalid, () => c.windowsInvalid);
  observe(meter, m.windowsDeadLettered, () => labelled("reason", c.windowsDeadLettered));
  observe(meter, m.windowsWithoutWebhooks, () => labelled("reason", c.windowsWithoutWebhooks));
  observe(meter, m.deliveriesCreated, () => c.deliveriesCreated);
  observe(meter, m.deliveries, () => labelled("status", c.deliveriesFinal));
  observe(meter, m.retriesScheduled, () => c.retriesScheduled);
  observe(meter, m.attempts, () => labelled("outcome", c.attempts));
  observe(meter, m.attemptsStale, () => c.attemptsStale);
  observe(meter, m.attemptsPublished, () => c.attemptsPublished);
  observe(meter, m.publishFailures, () => c.publishFailures);
  observe(meter, m.databaseErrors, () => c.databaseErrors);
  observe(meter, m.windowsStoreRefused, () => c.windowsStoreRefused);
  observe(meter, m.attemptsInFlight, gauges.attemptsInFlight);
  observe(meter, m.attemptsUnrecorded, gauges.attemptsUnrecorded);
  observe(meter, m.attemptsUnpublished, gauges.attemptsUnpublished);
  observe(meter, m.payloadCacheBytes, gauges.payloadCacheBytes);
  observe(meter, m.consumerLag, () => lag.observations());
  return { attemptDuration: histogram(meter, m.attemptDuration), endToEndLatency: histogram(meter, m.endToEndLatency) };
}
