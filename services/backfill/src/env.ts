import { JudgingEnv } from "@runhooks/evaluator";
import { ServiceEnv, parseEnv, refineServiceEnv } from "@runhooks/telemetry";
import { z } from "zod";

/**
 * The backfill service's configuration (DESIGN.md §4 "Backfills"). The settings that decide a run's
 * fate (run size and depth, trace horizon and limits) must equal the evaluator's, or a backfill would
 * judge runs differently from the live rule: they are the evaluator's own (JudgingEnv).
 */
export const BackfillEnv = ServiceEnv.extend({
  /** The key(s) opening webhook secrets at rest, as delivery's: a backfill stores one delivery per webhook. */
  RUNHOOKS_SECRETS_KEY: z.string().optional(),
  RUNHOOKS_SECRETS_KEY_FILE: z.string().optional(),
  /** Runs judged per second at most, per backfill process: live traffic keeps the rest. */
  RUNHOOKS_BACKFILL_MAX_RUNS_PER_S: z.coerce.number().int().min(1).default(20_000),
  /** Backfills pause while the live evaluators' group lags the runs topic by more messages than this. */
  RUNHOOKS_BACKFILL_MAX_LIVE_LAG: z.coerce.number().int().min(1).default(5_000),
  /** How long a backfill stays its owner's after its last renewal; a killed owner's is resumed after it. */
  RUNHOOKS_BACKFILL_LEASE_MS: z.coerce.number().int().min(500).max(600_000).default(15_000),
  /** How often an idle process looks for a backfill to run. */
  RUNHOOKS_BACKFILL_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(2_000),
  /** The process' nice value: the evaluators and delivery on the same host go first. */
  RUNHOOKS_BACKFILL_NICE: z.coerce.number().int().min(0).max(19).default(10),
  /** Bytes fetched per runs partition per batch: each batch is stored with a checkpoint. */
  RUNHOOKS_BACKFILL_FETCH_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** Health and metrics HTTP port on 127.0.0.1; 0 picks a free port, -1 disables it. */
  RUNHOOKS_BACKFILL_PORT: z.coerce.number().int().min(-1).max(65535).default(8084),
  RUNHOOKS_BACKFILL_HOST: z.string().default("127.0.0.1"),
  /**
   * The live evaluators' consumer group, whose lag throttles backfills: the evaluators' own setting.
   * Unset: the group the evaluators choose for the prefix (resolveEvaluatorGroup, @runhooks/evaluator).
   */
  RUNHOOKS_EVALUATOR_GROUP: z.string().min(1).optional(),
  ...JudgingEnv,
}).superRefine(refineServiceEnv);
export type BackfillEnv = z.infer<typeof BackfillEnv>;

export function readBackfillEnv(env: NodeJS.ProcessEnv = process.env): BackfillEnv {
  return parseEnv(BackfillEnv, env, "backfill configuration");
}
