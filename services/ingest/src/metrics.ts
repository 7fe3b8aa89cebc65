import type { Meter } from "@opentelemetry/api";
import { labelled, observe, type MetricDef } from "@runhooks/telemetry";
import type { Counters } from "./counters.js";

/** Every metric the ingest service exports (on /metrics, and over OTLP when configured). */
export const INGEST_METRICS = {
  requests: { name: "runhooks.ingest.requests", kind: "counter", help: "Requests answered, by route and status." },
  bodies: {
    name: "runhooks.ingest.bodies",
    kind: "counter",
    help: "Request bodies read, by Content-Encoding (identity, gzip, x-gzip, deflate, br or other).",
  },
  keyLookups: {
    name: "runhooks.ingest.key_lookups",
    kind: "counter",
    help: "API key lookups that reached Postgres (misses of the valid- and wrong-key caches).",
  },
  runsAccepted: {
    name: "runhooks.ingest.runs_accepted",
    kind: "counter",
    help: "Run operations (creates and updates) accepted with a 2xx.",
  },
  runsProduced: {
    name: "runhooks.ingest.runs_produced",
    kind: "counter",
    help: "Complete runs acknowledged by Kafka on the runs topic.",
  },
  runsPendingStored: {
    name: "runhooks.ingest.runs_pending_stored",
    kind: "counter",
    help: "Operations stored in Postgres until their run is complete.",
  },
  runsPendingCompleted: {
    name: "runhooks.ingest.runs_pending_completed",
    kind: "counter",
    help: "Runs completed from stored parts and produced.",
  },
  runsPendingExpired: {
    name: "runhooks.ingest.runs_pending_expired",
    kind: "counter",
    help: "Incomplete runs dropped after RUNHOOKS_INGEST_PENDING_TTL_MS.",
  },
  runsDuplicate: {
    name: "runhooks.ingest.runs_duplicate",
    kind: "counter",
    help: "Operations for runs already produced, dropped.",
  },
  attachmentsIgnored: {
    name: "runhooks.ingest.attachments_ignored",
    kind: "counter",
    help: "Attachment parts accepted but not kept.",
  },
  feedbackIgnored: {
    name: "runhooks.ingest.feedback_ignored",
    kind: "counter",
    help: "Feedback parts accepted but not kept.",
  },
  kafkaUnavailable: {
    name: "runhooks.ingest.kafka_unavailable",
    kind: "counter",
    help: "Requests answered 503 because Kafka did not acknowledge.",
  },
  databaseUnavailable: {
    name: "runhooks.ingest.database_unavailable",
    kind: "counter",
    help: "Requests answered 503 because Postgres did not answer.",
  },
  pendingRuns: {
    name: "runhooks.ingest.pending_runs",
    kind: "gauge",
    help: "Incomplete runs waiting in Postgres (counted once a minute).",
  },
} as const satisfies Record<string, MetricDef>;

/** Registers the ingest metrics; they read the counters at collection time (requests only increment). */
export function registerIngestMetrics(meter: Meter, c: Counters, pendingRuns: () => number): void {
  const m = INGEST_METRICS;
  observe(meter, m.requests, () =>
    [...c.requests.values()].map((r) => [{ route: r.route, status: r.status }, r.count] as const),
  );
  observe(meter, m.bodies, () => labelled("content_encoding", Object.fromEntries(c.encodings)));
  observe(meter, m.keyLookups, () => c.key_lookups);
  observe(meter, m.runsAccepted, () => c.runs_accepted);
  observe(meter, m.runsProduced, () => c.runs_produced);
  observe(meter, m.runsPendingStored, () => c.runs_pending_stored);
  observe(meter, m.runsPendingCompleted, () => c.runs_pending_completed);
  observe(meter, m.runsPendingExpired, () => c.runs_pending_expired);
  observe(meter, m.runsDuplicate, () => c.runs_duplicate);
  observe(meter, m.attachmentsIgnored, () => c.attachments_ignored);
  observe(meter, m.feedbackIgnored, () => c.feedback_ignored);
  observe(meter, m.kafkaUnavailable, () => c.kafka_unavailable);
  observe(meter, m.databaseUnavailable, () => c.database_unavailable);
  observe(meter, m.pendingRuns, pendingRuns);
}
