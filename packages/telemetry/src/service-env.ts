import { hostname } from "node:os";
import { z } from "zod";
import type { OtelEnv } from "./config.js";
import { kafkaSecurityEnvShape, refineKafkaSecurityEnv } from "./kafka-env.js";
import { otelEnvShape, refineOtelEnv } from "./otel-env.js";
import type { KafkaSecurityEnv } from "@runhooks/kafka";

/**
 * The settings the services share, as one zod object: each service's env.ts extends it with its own
 * settings (and omits those it does not read), so a shared variable has one name, default and error
 * message everywhere. It parses the environment it is given; it reads none.
 */
export const ServiceEnv = z.object({
  /** Comma-separated host:port list. */
  KAFKA_BROKERS: z
    .string()
    .min(1, "set KAFKA_BROKERS to the Kafka bootstrap servers, e.g. 127.0.0.1:9092")
    .transform((s) =>
      s
        .split(",")
        .map((b) => b.trim())
        .filter(Boolean),
    ),
  DATABASE_URL: z
    .string()
    .min(1, "set DATABASE_URL to the runhooks database, e.g. postgres://user:pw@127.0.0.1:5432/runhooks"),
  /** TLS and SASL to the brokers (KAFKA_TLS_*, KAFKA_SASL_*; README "Security"). */
  ...kafkaSecurityEnvShape,
  RUNHOOKS_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/)
    .default("runhooks"),
  /** Names this process among the service's instances (telemetry, Kafka client ids, claims). */
  RUNHOOKS_INSTANCE_ID: z.string().min(1).default(`${hostname()}-${process.pid}`),
  RUNHOOKS_DB_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(10),
  RUNHOOKS_LOG_LEVEL: z.enum(["error", "warn", "info", "debug"]).default("info"),
  /** The standard OTEL_* variables (README "Operating: traces, metrics and Grafana"). */
  ...otelEnvShape,
});
export type ServiceEnv = z.infer<typeof ServiceEnv>;

/**
 * The `superRefine` step of every service's env (zod cannot extend a refined object, so each env.ts
 * adds it after its own fields): the OTEL_* and the Kafka security settings, checked together.
 */
export function refineServiceEnv(env: OtelEnv & KafkaSecurityEnv, ctx: z.RefinementCtx): void {
  refineOtelEnv(env, ctx);
  refineKafkaSecurityEnv(env, ctx);
}

/**
 * A boolean setting: `true`/`1` or `false`/`0`; empty (as compose's `${VAR:-}` gives) means the default.
 * Every service reads its switches this way, so one spelling works everywhere.
 */
export const envFlag = (byDefault: "true" | "false") =>
  z
    .enum(["true", "false", "1", "0", ""])
    .default(byDefault)
    .transform((v) => (v === "" ? byDefault === "true" : v === "true" || v === "1"));
