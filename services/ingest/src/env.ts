import { ServiceEnv, parseEnv, refineServiceEnv } from "@runhooks/telemetry";
import { z } from "zod";

const MIB = 1024 * 1024;

/** The ingest service's whole configuration, parsed once at start: the shared settings (ServiceEnv) and its own. */
export const IngestEnv = ServiceEnv.extend({
  /** The HTTP API (LangSmith's run ingestion routes, /healthz, /metrics); 0 picks a free port. */
  RUNHOOKS_INGEST_PORT: z.coerce.number().int().min(0).max(65535).default(8083),
  RUNHOOKS_INGEST_HOST: z.string().min(1).default("127.0.0.1"),
  /** The byte limit advertised in /info (`batch_ingest_config.size_limit_bytes`); larger bodies get 413. */
  RUNHOOKS_INGEST_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .max(512 * MIB)
    .default(20 * MIB),
  /** Operations per request the SDKs are told to batch (`batch_ingest_config.size_limit`). */
  RUNHOOKS_INGEST_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(100),
  /** One run's JSON as produced; larger runs are refused (413). Must stay under the broker's 1 MiB. */
  RUNHOOKS_MAX_RUN_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(900 * 1024)
    .default(512 * 1024),
  /** How long an incomplete run (created without end_time) waits for its end before it is dropped. */
  RUNHOOKS_INGEST_PENDING_TTL_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(24 * 60 * 60 * 1000),
  /** How long a produce may take before the request is answered 503 (Kafka unavailable). */
  RUNHOOKS_INGEST_PRODUCE_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** The Retry-After (seconds) of a 503. */
  RUNHOOKS_INGEST_RETRY_AFTER_S: z.coerce.number().int().min(1).max(3600).default(5),
  /** How long a valid API key is trusted without asking the database again (revocation delay). */
  RUNHOOKS_INGEST_KEY_CACHE_MS: z.coerce.number().int().min(0).max(3_600_000).default(10_000),
  /** How long a wrong API key is refused without asking the database again (a flood of it costs one lookup). */
  RUNHOOKS_INGEST_WRONG_KEY_CACHE_MS: z.coerce.number().int().min(0).max(3_600_000).default(5_000),
  /** Requests per second per API key (token bucket refill); over it, 429 with Retry-After. */
  RUNHOOKS_INGEST_RATE_PER_S: z.coerce.number().positive().max(1_000_000).default(500),
  /** Requests a quiet API key may send at once (token bucket size). */
  RUNHOOKS_INGEST_RATE_BURST: z.coerce.number().int().min(1).max(10_000_000).default(5_000),
  /** Parts per multipart body; more is refused (413). The SDKs send at most ~7 per run operation. */
  RUNHOOKS_INGEST_MAX_PARTS: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  /** How deep a run (or a multipart part) may nest objects and arrays; deeper is refused (400). */
  RUNHOOKS_INGEST_MAX_JSON_DEPTH: z.coerce.number().int().min(8).max(1000).default(256),
  /** Incomplete runs (waiting for their end or create) one tenant may hold; past it, 429. */
  RUNHOOKS_INGEST_MAX_PENDING_PER_TENANT: z.coerce.number().int().min(1).default(50_000),
  /** Projects (session names) one tenant may have; runs naming one more are refused (403). */
  RUNHOOKS_INGEST_MAX_PROJECTS_PER_TENANT: z.coerce.number().int().min(1).default(10_000),
  /** How long a client may take to send a request's headers (408 and close past it). */
  RUNHOOKS_INGEST_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /** How long a client may take to send a whole request, body included (408 and close past it). */
  RUNHOOKS_INGEST_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(120_000),
  /** How long an idle keep-alive connection stays open between requests. */
  RUNHOOKS_INGEST_KEEPALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(65_000),
  /** Open connections at most; further ones are closed at once. */
  RUNHOOKS_INGEST_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1_000_000).default(1_024),
}).superRefine((env, ctx) => {
  refineServiceEnv(env, ctx);
  if (env.RUNHOOKS_INGEST_HEADERS_TIMEOUT_MS > env.RUNHOOKS_INGEST_REQUEST_TIMEOUT_MS) {
    ctx.addIssue({
      code: "custom",
      path: ["RUNHOOKS_INGEST_HEADERS_TIMEOUT_MS"],
      message: "must not exceed RUNHOOKS_INGEST_REQUEST_TIMEOUT_MS (the headers are part of the request)",
    });
  }
});
export type IngestEnv = z.infer<typeof IngestEnv>;

export function readIngestEnv(env: NodeJS.ProcessEnv = process.env): IngestEnv {
  return parseEnv(IngestEnv, env, "ingest configuration");
}
