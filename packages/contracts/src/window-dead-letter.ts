import { z } from "zod";
import { SCHEMA_VERSION, UtcTimestamp } from "./common.js";

/**
 * Why delivery refused a message of the windows topic. `invalid`: not a valid part or watermark (its
 * JSON or its schema). The others are parts that do not match the rule store, which delivery checks
 * before a window becomes deliveries: `unknown_rule` (no such rule), `unknown_rule_version` (the rule has
 * no such version), `tenant_mismatch` (the rule is another tenant's).
 */
export const WindowDeadLetterReason = z.enum(["invalid", "unknown_rule", "unknown_rule_version", "tenant_mismatch"]);
export type WindowDeadLetterReason = z.infer<typeof WindowDeadLetterReason>;

/**
 * A message delivery refused, on `runhooks.windows.dlq` under the original key. What the part claimed
 * (tenant, rule, version) is repeated for searching, null when it could not be read; the original bytes
 * are kept (base64), so nothing is lost and a message refused by mistake can be produced again.
 */
export const WindowDeadLetter = z.strictObject({
  schema_version: z.literal(SCHEMA_VERSION),
  reason: WindowDeadLetterReason,
  error: z.string(),
  tenant_id: z.string().nullable(),
  rule_id: z.string().nullable(),
  rule_version: z.number().int().nullable(),
  original: z.base64({ error: "must be base64" }),
  topic: z.string().min(1),
  partition: z.number().int().nonnegative(),
  offset: z.string().regex(/^\d+$/, "must be a Kafka offset (decimal string)"),
  dead_lettered_at: UtcTimestamp,
});
export type WindowDeadLetter = z.infer<typeof WindowDeadLetter>;
