import { z } from "zod";
import { Id, SCHEMA_VERSION, UtcTimestamp } from "./common.js";
import { AttemptOutcome } from "./delivery.js";

/** What every operational event names: when, and which tenant's webhook. */
const About = {
  schema_version: z.literal(SCHEMA_VERSION),
  occurred_at: UtcTimestamp,
  tenant_id: Id,
  rule_id: Id,
  webhook_id: Id,
};

/**
 * An operational event, as a `<prefix>.events` message keyed by webhook id (DESIGN.md §5):
 * `delivery.exhausted` — a delivery ended failed (its retries used up, or an outcome that is never
 * retried); `webhook.disabled` — the webhook failed past the threshold and receives nothing until it is
 * enabled; `webhook.recovered` — a delivery succeeded after deliveries had failed in a row. No URL,
 * header or secret: events name webhooks by id.
 */
export const OperationalEvent = z.discriminatedUnion("type", [
  z.strictObject({
    ...About,
    type: z.literal("delivery.exhausted"),
    delivery_id: Id,
    window_id: Id,
    attempts: z.number().int().positive(),
    last_outcome: AttemptOutcome,
    reason: z.enum(["retries_exhausted", "not_retriable"]),
  }),
  z.strictObject({
    ...About,
    type: z.literal("webhook.disabled"),
    consecutive_failures: z.number().int().positive(),
    last_success_at: UtcTimestamp.nullable(),
  }),
  z.strictObject({
    ...About,
    type: z.literal("webhook.recovered"),
    /** Deliveries that had failed in a row before this success. */
    after_failures: z.number().int().positive(),
  }),
]);
export type OperationalEvent = z.infer<typeof OperationalEvent>;
