import { kafkaSecurityFromEnv, type KafkaSecurity } from "@runhooks/kafka";
import { z } from "zod";
import { CliError } from "./io.js";

export const DEFAULT_API_URL = "http://127.0.0.1:8080";

export interface CliConfig {
  readonly apiUrl: string;
  readonly apiKey: string | undefined;
  readonly adminKey: string | undefined;
  /** Where `runs produce` and `tail` reach Kafka: KAFKA_BROKERS, else the local broker's port. */
  readonly kafkaBrokers: readonly string[];
  readonly topicPrefix: string;
  /** TLS and SASL to KAFKA_BROKERS (KAFKA_TLS_*, KAFKA_SASL_*); undefined: PLAINTEXT. */
  readonly kafkaSecurity?: KafkaSecurity;
}

const Env = z.object({
  RUNHOOKS_API_URL: z
    .url({ protocol: /^https?$/, error: "must be an http(s) URL such as http://127.0.0.1:8080" })
    .optional(),
  RUNHOOKS_API_KEY: z.string().min(1).optional(),
  RUNHOOKS_ADMIN_KEY: z.string().min(1).optional(),
  KAFKA_BROKERS: z.string().min(1).optional(),
  RUNHOOKS_KAFKA_PORT: z.coerce.number().int().min(1).max(65535).default(9092),
  RUNHOOKS_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, "may hold letters, digits, '.', '_' and '-' only")
    .default("runhooks"),
});

/**
 * The CLI's configuration: RUNHOOKS_API_URL (default http://127.0.0.1:8080), RUNHOOKS_API_KEY,
 * RUNHOOKS_ADMIN_KEY; for the commands that talk to Kafka, KAFKA_BROKERS (default the local broker,
 * 127.0.0.1:RUNHOOKS_KAFKA_PORT), RUNHOOKS_TOPIC_PREFIX and the Kafka security settings (KAFKA_TLS_*,
 * KAFKA_SASL_*, read as the services read them).
 */
export function readConfig(env: Readonly<Record<string, string | undefined>>): CliConfig {
  const parsed = Env.safeParse({
    RUNHOOKS_API_URL: env["RUNHOOKS_API_URL"] || undefined,
    RUNHOOKS_API_KEY: env["RUNHOOKS_API_KEY"] || undefined,
    RUNHOOKS_ADMIN_KEY: env["RUNHOOKS_ADMIN_KEY"] || undefined,
    KAFKA_BROKERS: env["KAFKA_BROKERS"] || undefined,
    RUNHOOKS_KAFKA_PORT: env["RUNHOOKS_KAFKA_PORT"] || undefined,
    RUNHOOKS_TOPIC_PREFIX: env["RUNHOOKS_TOPIC_PREFIX"] || undefined,
  });
  if (!parsed.success) {
    throw new CliError(parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; "));
  }
  const security = kafkaSecurityFromEnv(env);
  if (!security.ok) throw new CliError(security.issues.map((i) => `${i.variable} ${i.message}`).join("; "));
  return {
    apiUrl: (parsed.data.RUNHOOKS_API_URL ?? DEFAULT_API_URL).replace(/\/+$/, ""),
    apiKey: parsed.data.RUNHOOKS_API_KEY,
    adminKey: parsed.data.RUNHOOKS_ADMIN_KEY,
    kafkaBrokers: (parsed.data.KAFKA_BROKERS ?? `127.0.0.1:${parsed.data.RUNHOOKS_KAFKA_PORT}`)
      .split(",")
      .map((b) => b.trim())
      .filter(Boolean),
    topicPrefix: parsed.data.RUNHOOKS_TOPIC_PREFIX,
    kafkaSecurity: security.security,
  };
}
