/** Requests answered, by route and status. */
export interface RequestCount {
  readonly route: string;
  readonly status: string;
  count: number;
}

/** The ingest service's counters: plain numbers on the hot path, read by the metrics at collection (metrics.ts). */
export interface Counters {
  /** Keyed `<route> <status>`. */
  requests: Map<string, RequestCount>;
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
