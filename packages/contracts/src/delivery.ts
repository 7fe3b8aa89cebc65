import { z } from "zod";
import { Id, SCHEMA_VERSION, UtcTimestamp } from "./common.js";

/**
 * What one attempt came to. `ssrf_blocked`: the resolved address was refused before connecting.
 * `connect_error`: the endpoint could not be reached (refused, DNS, TLS, connect timeout, a connection
 * reset or closed before any response). `invalid_response`: the endpoint answered with something that
 * is not a valid HTTP response. `request_failed`: the request could not be made for another reason
 * (an unexpected error on our side, or nothing left to send: the webhook or the window's body is gone).
 * `interrupted`: the worker stopped during the attempt (a crash, a lost lease), so whether the endpoint
 * received it is unknown; it is replaced by the real outcome if that is recorded later.
 */
export const AttemptOutcome = z.enum([
  "success",
  "http_3xx",
  "http_4xx",
  "http_5xx",
  "timeout",
  "connect_error",
  "ssrf_blocked",
  "response_too_large",
  "invalid_response",
  "request_failed",
  "interrupted",
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

/** `skipped`: its webhook was disabled (recoverable); `cancelled`: its webhook left the rule. Neither was sent. */
export const DeliveryStatus = z.enum(["pending", "in_flight", "succeeded", "failed", "skipped", "cancelled"]);
export type DeliveryStatus = z.infer<typeof DeliveryStatus>;
