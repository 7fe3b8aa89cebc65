import { kafkaSecurityFromEnv, securityProtocol } from "@runhooks/kafka";
import { kafkaSecurityEnvShape, parseEnv, refineKafkaSecurityEnv } from "@runhooks/telemetry";
import { z } from "zod";

const port = z.coerce.number().int().min(1).max(65535);
/** A folder setting; set but empty (`RUNHOOKS_STATE_DIR= npm test`) means unset, not the current folder. */
const folder = z.preprocess((v) => (v === "" ? undefined : v), z.string().optional());

/**
 * Configuration of the local stack (broker, database, topics), read once from the environment. Kafka
 * TLS and SASL settings apply to an existing cluster only: the local broker speaks PLAINTEXT.
 */
export const InfraEnv = z
  .object({
    /** Use this Kafka cluster (comma-separated host:port) and start no broker. */
    KAFKA_BROKERS: z
      .string()
      .min(1)
      .transform((s) =>
        s
          .split(",")
          .map((b) => b.trim())
          .filter(Boolean),
      )
      .optional(),
    /** Use this PostgreSQL database and start no embedded server. */
    DATABASE_URL: z.string().url().optional(),
    RUNHOOKS_TOPIC_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/)
      .default("runhooks"),
    /** Partitions of the runs topic (and its dead-letter topic); raising it on a running system adds partitions. */
    RUNHOOKS_RUNS_PARTITIONS: z.coerce.number().int().min(1).max(1024).default(6),
    /** Partitions of the windows topic when it is created; raising it later is refused (topic-partitions.ts). */
    RUNHOOKS_WINDOWS_PARTITIONS: z.coerce.number().int().min(1).max(1024).default(6),
    /** Where the local broker's and database's files live (git-ignored). */
    RUNHOOKS_STATE_DIR: folder,
    /** Where the Kafka jars fetched from Maven Central are cached; defaults to `<state dir>/kafka/dist`. */
    RUNHOOKS_KAFKA_CACHE_DIR: folder,
    RUNHOOKS_KAFKA_PORT: port.default(9092),
    RUNHOOKS_KAFKA_CONTROLLER_PORT: port.default(9093),
    RUNHOOKS_KAFKA_VERSION: z
      .string()
      .regex(/^3\.9\.\d+$/, "must be a 3.9.x Kafka version")
      .default("3.9.1"),
    RUNHOOKS_KAFKA_HEAP: z
      .string()
      .regex(/^\d+[mg]$/, "must look like 512m or 1g")
      .default("768m"),
    RUNHOOKS_PG_PORT: port.default(54329),
    /**
     * The services' consumer groups, as they read them: `npm run infra -- acls` grants them. Unset:
     * `<RUNHOOKS_TOPIC_PREFIX>-evaluator` and `<RUNHOOKS_TOPIC_PREFIX>-delivery`.
     */
    RUNHOOKS_EVALUATOR_GROUP: z.string().min(1).optional(),
    RUNHOOKS_DELIVERY_GROUP: z.string().min(1).optional(),
    RUNHOOKS_API_RULE_ERRORS_GROUP: z.string().min(1).optional(),
    /** TLS and SASL to the cluster KAFKA_BROKERS names (README "Security"). */
    ...kafkaSecurityEnvShape,
  })
  .superRefine((env, ctx) => {
    refineKafkaSecurityEnv(env, ctx);
    const security = kafkaSecurityFromEnv(env);
    if (env.KAFKA_BROKERS === undefined && security.ok && security.security !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["KAFKA_BROKERS"],
        message:
          `is unset, so runhooks starts a local broker, which speaks PLAINTEXT only, while the Kafka security ` +
          `settings ask for ${securityProtocol(security.security)}: set KAFKA_BROKERS to the cluster they are for, or unset them`,
      });
    }
  });
export type InfraEnv = z.infer<typeof InfraEnv>;

export function readInfraEnv(env: NodeJS.ProcessEnv = process.env): InfraEnv {
  return parseEnv(InfraEnv, env, "environment");
}
