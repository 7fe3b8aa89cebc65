import { ServiceEnv, parseEnv, refineServiceEnv } from "@runhooks/telemetry";
import { z } from "zod";
import { DEFAULT_API_LIMITS, HOUR_MS } from "./limits.js";

const port = z.coerce.number().int().min(0).max(65535);
const positive = z.coerce.number().int().min(1);

/**
 * The API's configuration: the one place it reads the environment. The shared settings (ServiceEnv)
 * but the instance id and pool size, which it does not use; its database URL must be a URL, its log
 * levels are fastify's (pino's), and an empty broker list is refused with zod's own message.
 */
export const ApiEnv = ServiceEnv.omit({ RUNHOOKS_INSTANCE_ID: true, RUNHOOKS_DB_POOL_SIZE: true })
  .extend({
    DATABASE_URL: z.string().url("must be a postgres:// URL"),
    KAFKA_BROKERS: z
      .string()
      .min(1)
      .transform((s) =>
        s
          .split(",")
          .map((b) => b.trim())
          .filter(Boolean),
      ),
    RUNHOOKS_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    RUNHOOKS_API_PORT: port.default(8080),
    RUNHOOKS_API_HOST: z.string().min(1).default("127.0.0.1"),
    /** Unset: the admin routes (tenants, keys) are disabled. */
    RUNHOOKS_ADMIN_KEY: z.string().min(16, "must be at least 16 characters").optional(),
    /** Run the outbox relay in this process (one relay runs at a time across all API instances). */
    RUNHOOKS_API_RELAY: z
      .enum(["true", "false"])
      .default("true")
      .transform((v) => v === "true"),
    /** Live rules a tenant may have; one more is refused with 403 (docs/limits.md). */
    RUNHOOKS_API_MAX_RULES_PER_TENANT: positive.default(DEFAULT_API_LIMITS.rules.maxRulesPerTenant),
    /** Rule versions (create, update, enable, disable, delete) a tenant may write in any 60 s; then 429. */
    RUNHOOKS_API_MAX_RULE_VERSIONS_PER_MINUTE: positive.default(DEFAULT_API_LIMITS.rules.maxVersionsPerMinute),
    /** Longest range one POST /rules/:id/replay may cover, in hours (168: 7 days); longer is refused with 422. */
    RUNHOOKS_API_MAX_REPLAY_HOURS: positive.max(24 * 366).default(DEFAULT_API_LIMITS.maxReplayRangeMs / HOUR_MS),
    /** Runs per `POST /rules/test` (more: 413). */
    RUNHOOKS_API_DRY_RUN_MAX_RUNS: z.coerce.number().int().min(1).default(1000),
    /** Request body bytes of `POST /rules/test` (more: 413). */
    RUNHOOKS_API_DRY_RUN_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(4 * 1024 * 1024),
    /**
     * Filter steps per `POST /rules/test`, every run's verdict and explanation together; runs past it
     * are answered "error", not evaluated (a step is the filter budget's unit, so answers never depend
     * on the machine's speed).
     */
    RUNHOOKS_API_DRY_RUN_MAX_STEPS: z.coerce.number().int().min(1).default(2_000_000),
    /**
     * Store the evaluator's rule-error records (topic `<prefix>.rule-errors`) for GET /rules/:id/errors.
     * Every API instance may run it: they share the consumer group below.
     */
    RUNHOOKS_API_RULE_ERRORS: z
      .enum(["true", "false"])
      .default("true")
      .transform((v) => v === "true"),
    /** Unset: `<RUNHOOKS_TOPIC_PREFIX>-api-rule-errors`. */
    RUNHOOKS_API_RULE_ERRORS_GROUP: z.string().min(1).optional(),
    /** Requests per second per API key (token bucket refill); over it, 429 with Retry-After. */
    RUNHOOKS_API_RATE_PER_S: z.coerce.number().positive().max(1_000_000).default(100),
    /** Requests a quiet API key may send at once (token bucket size). */
    RUNHOOKS_API_RATE_BURST: z.coerce.number().int().min(1).max(10_000_000).default(1_000),
    /** How long a wrong API key is refused without asking the database again. */
    RUNHOOKS_API_WRONG_KEY_CACHE_MS: z.coerce.number().int().min(0).max(3_600_000).default(5_000),
    /** The key(s) sealing webhook secrets at rest (first seals, all open); or a file holding them. */
    RUNHOOKS_SECRETS_KEY: z.string().optional(),
    RUNHOOKS_SECRETS_KEY_FILE: z.string().optional(),
  })
  .superRefine(refineServiceEnv);
export type ApiEnv = z.infer<typeof ApiEnv>;

export function readApiEnv(env: NodeJS.ProcessEnv = process.env): ApiEnv {
  return parseEnv(ApiEnv, env, "environment");
}
