import { ServiceEnv, envFlag, parseEnv, refineServiceEnv } from "@runhooks/telemetry";
import { z } from "zod";
import { parseCidr } from "./address-policy.js";
import { DEFAULT_RETENTION } from "./retention-policy.js";

const flag = envFlag;
const bool = flag("false");

/** The delivery's whole configuration, parsed once at start: the shared settings (ServiceEnv) and its own. */
export const DeliveryEnv = ServiceEnv.extend({
  /** The key(s) opening webhook secrets at rest (first seals, all open); or a file holding them. */
  RUNHOOKS_SECRETS_KEY: z.string().optional(),
  RUNHOOKS_SECRETS_KEY_FILE: z.string().optional(),
  /** Days a window's body (its runs) is kept once its deliveries are finished; 0: for ever. */
  RUNHOOKS_RETENTION_BODY_DAYS: z.coerce.number().min(0).max(36_500).default(DEFAULT_RETENTION.bodyDays),
  /** Days a finished delivery, its attempts and its window's row are kept; 0: for ever. */
  RUNHOOKS_RETENTION_RECORD_DAYS: z.coerce.number().min(0).max(36_500).default(DEFAULT_RETENTION.recordDays),
  /** How often the retention job runs in each delivery process. */
  RUNHOOKS_RETENTION_INTERVAL_MS: z.coerce.number().int().min(1000).max(86_400_000).default(600_000),
  /**
   * Consumer group of the windows topic: all delivery instances of one installation share it. Unset:
   * `<RUNHOOKS_TOPIC_PREFIX>-delivery` (resolveDeliveryGroup, group.ts).
   */
  RUNHOOKS_DELIVERY_GROUP: z.string().min(1).optional(),
  /**
   * Windows consumer session: a killed delivery process stalls its partitions this long. 6 s, the
   * broker's default group.min.session.timeout.ms; a process stopped longer is dropped from the group
   * and rejoins when it resumes (its windows are read again by another: stores are idempotent).
   */
  RUNHOOKS_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).max(300_000).default(6000),
  /** Attempts in flight in one process. */
  RUNHOOKS_DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(512),
  /** Attempts in flight to one origin (scheme://host:port) in one process; also its keep-alive connections. */
  RUNHOOKS_DELIVERY_ORIGIN_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(64),
  /** Deadline for a complete response. LangSmith's policy: 5 s. */
  RUNHOOKS_DELIVERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  /** Connecting longer than this is a failure to connect (retried). */
  RUNHOOKS_DELIVERY_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3000),
  /** Retries after a failure to connect, and after a 5xx. LangSmith's policy: 2 each. */
  RUNHOOKS_DELIVERY_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  /** Wait before the first retry; doubled for each further one (1 s, 2 s). */
  RUNHOOKS_DELIVERY_BACKOFF_MS: z.coerce.number().int().min(0).max(3_600_000).default(1000),
  /**
   * How long a claimed delivery stays with a worker that is alive but stopped renewing it (stalled, or
   * cut off from Postgres) before another takes it over; a dead worker's claims are taken over within
   * ~2 s (its instance lock is gone). A live worker renews its claims every lease/10.
   */
  RUNHOOKS_DELIVERY_LEASE_MS: z.coerce.number().int().min(2000).max(3_600_000).default(10_000),
  /** How often idle workers look for due deliveries (retries, other instances' windows). */
  RUNHOOKS_DELIVERY_POLL_MS: z.coerce.number().int().min(5).max(10_000).default(100),
  /**
   * A webhook is disabled after this many deliveries failed in a row (0: never)… (its windows are then
   * kept as skipped deliveries until it is enabled again and they are recovered).
   */
  RUNHOOKS_DELIVERY_DISABLE_AFTER_FAILURES: z.coerce.number().int().min(0).max(1_000_000).default(20),
  /** …and at least this long since its last success (or, if it never succeeded, its first failure). One day. */
  RUNHOOKS_DELIVERY_DISABLE_AFTER_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(365 * 86_400_000)
    .default(86_400_000),
  /** POSTs on a thread of their own (the default); false keeps them on the main event loop (one core). */
  RUNHOOKS_DELIVERY_HTTP_THREAD: flag("true"),
  /** Allow loopback, private, link-local and other internal destinations; never cloud metadata (only ALLOW_CIDRS opens that). */
  RUNHOOKS_DELIVERY_ALLOW_PRIVATE: bool,
  /** Comma-separated CIDRs (or addresses) allowed despite the SSRF guard, e.g. 10.1.0.0/16,127.0.0.1. */
  RUNHOOKS_DELIVERY_ALLOW_CIDRS: z
    .string()
    .default("")
    .transform((s) =>
      s
        .split(",")
        .map((c) => c.trim())
        .filter(Boolean),
    )
    .superRefine((cidrs, ctx) => {
      for (const cidr of cidrs) {
        try {
          parseCidr(cidr);
        } catch (error) {
          ctx.addIssue({ code: "custom", message: (error as Error).message });
        }
      }
    }),
  /** Health and metrics HTTP port on 127.0.0.1; 0 picks a free port, -1 disables it. */
  RUNHOOKS_DELIVERY_PORT: z.coerce.number().int().min(-1).max(65535).default(8082),
  RUNHOOKS_DELIVERY_HOST: z.string().default("127.0.0.1"),
}).superRefine(refineServiceEnv);
export type DeliveryEnv = z.infer<typeof DeliveryEnv>;

export function readDeliveryEnv(env: NodeJS.ProcessEnv = process.env): DeliveryEnv {
  return parseEnv(DeliveryEnv, env, "delivery configuration");
}
