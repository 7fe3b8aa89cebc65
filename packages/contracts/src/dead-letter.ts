import { z } from "zod";
import { SCHEMA_VERSION, UtcTimestamp } from "./common.js";

/**
 * Why a message was refused. `too_deep`: its JSON nests deeper than the evaluator's limit.
 * `evaluation_failed`: decoding or judging it threw (an unexpected error, kept with its message so the
 * message can be replayed once the cause is fixed; one message never stops the evaluator).
 */
export const DeadLetterReason = z.enum([
  "invalid_json",
  "schema_invalid",
  "oversized",
  "unsupported_version",
  "too_deep",
  "evaluation_failed",
]);
export type DeadLetterReason = z.infer<typeof DeadLetterReason>;

/**
 * A message the evaluator could not accept, on `runhooks.runs.dlq` under the original key. The
 * original bytes are kept (base64) so nothing is lost and the message can be fixed and replayed.
 */
export const DeadLetter = z.strictObject({
  schema_version: z.literal(SCHEMA_VERSION),
  reason: DeadLetterReason,
  error: z.string(),
  original: z.base64({ error: "must be base64" }),
  topic: z.string().min(1),
  partition: z.number().int().nonnegative(),
  offset: z.string().regex(/^\d+$/, "must be a Kafka offset (decimal string)"),
  dead_lettered_at: UtcTimestamp,
});
export type DeadLetter = z.infer<typeof DeadLetter>;
