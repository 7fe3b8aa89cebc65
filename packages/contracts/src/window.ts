import { z } from "zod";
import { Id, SCHEMA_VERSION, UtcTimestamp } from "./common.js";
import { Run } from "./run.js";

/**
 * A closed match window on `runhooks.windows`, keyed by rule id.
 *
 * `window_id` is a UUIDv5 of (rule id, rule version, partition, window start, chunk), so the same logs
 * always yield the same ids. `start_time`/`end_time` are the window's bounds `[start, end)` in stream
 * time; they are what the webhook payload carries.
 */
export const MatchWindow = z.strictObject({
  schema_version: z.literal(SCHEMA_VERSION),
  window_id: Id,
  rule_id: Id,
  rule_version: z.number().int().positive(),
  tenant_id: Id,
  partition: z.number().int().nonnegative(),
  chunk: z.number().int().nonnegative(),
  start_time: UtcTimestamp,
  end_time: UtcTimestamp,
  runs: z.array(Run).min(1, "a window holds at least one run"),
});
export type MatchWindow = z.infer<typeof MatchWindow>;

/**
 * The body POSTed to a webhook: exactly LangSmith's shape, so receivers written for LangSmith work
 * unchanged. Strict: nothing else is sent at the top level.
 */
export const WebhookPayload = z.strictObject({
  rule_id: Id,
  start_time: z.iso.datetime({ offset: true, error: "must be an ISO-8601 timestamp with an offset" }),
  end_time: z.iso.datetime({ offset: true, error: "must be an ISO-8601 timestamp with an offset" }),
  runs: z.array(Run),
});
export type WebhookPayload = z.infer<typeof WebhookPayload>;

export function toWebhookPayload(window: MatchWindow): WebhookPayload {
  return { rule_id: window.rule_id, start_time: window.start_time, end_time: window.end_time, runs: window.runs };
}
