import { KAFKA_SECURITY_ENV_KEYS, kafkaSecurityFromEnv, type KafkaSecurityEnv } from "@runhooks/kafka";
import { z } from "zod";

/**
 * The Kafka TLS and SASL variables (KAFKA_TLS_*, KAFKA_SASL_*, docs/configuration.md) as fields of a
 * zod env schema, each an optional string; `refineKafkaSecurityEnv` then checks them together the way
 * `kafkaSecurityOf` reads them (files included), so a bad setting stops the start, named.
 */
export const kafkaSecurityEnvShape = Object.fromEntries(
  KAFKA_SECURITY_ENV_KEYS.map((key) => [key, z.string().optional()]),
) as Record<(typeof KAFKA_SECURITY_ENV_KEYS)[number], z.ZodOptional<z.ZodString>>;

/** A `superRefine` step: each unusable Kafka security variable becomes an issue at its name. */
export function refineKafkaSecurityEnv(env: KafkaSecurityEnv, ctx: z.RefinementCtx): void {
  const result = kafkaSecurityFromEnv(env);
  if (result.ok) return;
  for (const issue of result.issues) ctx.addIssue({ code: "custom", message: issue.message, path: [issue.variable] });
}
