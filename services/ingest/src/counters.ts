/** The ingest service's counters (Prometheus text on /metrics). */
export interface Counters {
  requests: Map<string, number>;
  /** Request bodies by Content-Encoding. */
  encodings: Map<string, number>;
  runs_accepted: number;
  runs_produced: number;
  runs_pending_stored: number;
  runs_pending_completed: number;
  runs_pending_expired: number;
  runs_duplicate: number;
  attachments_ignored: number;
  feedback_ignored: number;
  kafka_unavailable: number;
  database_unavailable: number;
}

export function createCounters(): Counters {
  return {
    requests: new Map(),
    encodings: new Map(),
    runs_accepted: 0,
    runs_produced: 0,
    runs_pending_stored: 0,
    runs_pending_completed: 0,
    runs_pending_expired: 0,
    runs_duplicate: 0,
    attachments_ignored: 0,
    feedback_ignored: 0,
    kafka_unavailable: 0,
    database_unavailable: 0,
  };
}

const HELP: Record<string, string> = {
  runs_accepted: "run operations (creates and updates) accepted with a 2xx",
  runs_produced: "complete runs acknowledged by Kafka on the runs topic",
  runs_pending_stored: "operations stored in Postgres until their run is complete",
  runs_pending_completed: "runs completed from stored parts and produced",
  runs_pending_expired: "incomplete runs dropped after RUNHOOKS_INGEST_PENDING_TTL_MS",
  runs_duplicate: "operations for runs already produced, dropped",
  attachments_ignored: "attachment parts accepted but not kept",
  feedback_ignored: "feedback parts accepted but not kept",
  kafka_unavailable: "requests answered 503 because Kafka did not acknowledge",
  database_unavailable: "requests answered 503 because Postgres did not answer",
};

export function prometheusText(c: Counters, gauges: Record<string, number>): string {
  const lines: string[] = [];
  lines.push("# TYPE runhooks_ingest_requests_total counter");
  for (const [labels, n] of c.requests) lines.push(`runhooks_ingest_requests_total{${labels}} ${n}`);
  lines.push("# TYPE runhooks_ingest_bodies_total counter");
  for (const [encoding, n] of c.encodings) lines.push(`runhooks_ingest_bodies_total{content_encoding="${encoding}"} ${n}`);
  for (const [name, help] of Object.entries(HELP)) {
    const value = c[name as keyof Omit<Counters, "requests" | "encodings">];
    lines.push(`# HELP runhooks_ingest_${name}_total ${help}`, `# TYPE runhooks_ingest_${name}_total counter`, `runhooks_ingest_${name}_total ${value}`);
  }
  for (const [name, value] of Object.entries(gauges)) lines.push(`# TYPE ${name} gauge`, `${name} ${value}`);
  return `${lines.join("\n")}\n`;
}
