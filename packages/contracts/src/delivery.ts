import { z } from "zod";
import { Id, SCHEMA_VERSION, UtcTimestamp } from "./common.js";

/** What one attempt came to. `ssrf_blocked` means the resolved address was refused before connecting. */
export const AttemptOutcome = z.enum([
  "success",
  "http_3xx",
  "http_4xx",
  "http_5xx",
  "timeout",
  "connect_error",
  "ssrf_blocked",
  "response_too_large",
]);
export type AttemptOutcome = z.infer<typeof AttemptOutcome>;

export const AttemptTrigger = z.enum(["scheduled", "manual"]);
export type AttemptTrigger = z.infer<typeof AttemptTrigger>;

/** Excerpts of response bodies are capped so that a hostile endpoint cannot bloat our records. */
export const MAX_RESPONSE_EXCERPT_BYTES = 1024;

/**
 * One webhook attempt, as a `runhooks.attempts` message (keyed by delivery id) and a
 * `delivery_attempts` row. `url` is always the redacted form (`secret=***`).
 */
export const DeliveryAttempt = z.strictObject({
  schema_version: z.literal(SCHEMA_VERSION),
  delivery_id: Id,
  window_id: Id,
  rule_id: Id,
  webhook_id: Id,
  url: z.string(),
  attempt: z.number().int().positive(),
  trigger: AttemptTrigger,
  started_at: UtcTimestamp,
  duration_ms: z.number().nonnegative(),
  outcome: AttemptOutcome,
  status_code: z.number().int().min(100).max(599).nullable(),
  error: z.string().nullable(),
  response_excerpt: z.string().nullable(),
});
export type DeliveryAttempt = z.infer<typeof DeliveryAttempt>;

export const DeliveryStatus = z.enum(["pending", "in_flight", "succeeded", "failed"]);
export type DeliveryStatus = z.infer<typeof DeliveryStatus>;

