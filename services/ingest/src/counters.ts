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
  /** Request bodies by Content-Encoding: one of ENCODING_LABELS, so the series are bounded. */
  encodings: Map<string, number>;
  /** API key lookups that reached Postgres (cache misses). */
  key_lookups: number;
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
    key_lookups: 0,
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

/** The Content-Encoding label values: the encodings read, and `other` for every refused one. */
export const ENCODING_LABELS: ReadonlySet<string> = new Set(["identity", "gzip", "x-gzip", "deflate", "br"]);

/** Counts a body by its Content-Encoding header; unknown values all count as `other`. */
export function countEncoding(c: Counters, header: string | undefined): void {
  const value = (header ?? "identity").trim().toLowerCase() || "identity";
  const label = ENCODING_LABELS.has(value) ? value : "other";
  c.encodings.set(label, (c.encodings.get(label) ?? 0) + 1);
}
