import { ServiceEnv, envFlag, parseEnv, refineServiceEnv } from "@runhooks/telemetry";
import { MAX_TRACE_HORIZON_SECONDS } from "@runhooks/contracts";
import { DEFAULT_TRACE_HORIZON_SECONDS, DEFAULT_TRACE_LIMITS } from "@runhooks/rules";
import { z } from "zod";
import { DEFAULT_MAX_RUN_DEPTH } from "./decode.js";

/**
 * The settings that decide a run's fate: whatever judges runs (the evaluator, a backfill) must read
 * them alike, or a replay or a backfill would judge runs differently from the live rule.
 */
export const JudgingEnv = {
  /** Runs larger than this go to the dead-letter topic as `oversized`. */
  RUNHOOKS_MAX_RUN_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(512 * 1024),
  /**
   * Runs whose JSON nests objects/arrays deeper than this go to the dead-letter topic as `too_deep`,
   * before anything recursive sees them. Part of what decides a run's fate: changing it changes how
   * a replay judges old runs, like RUNHOOKS_MAX_RUN_BYTES. Keep it at least ingest's
   * RUNHOOKS_INGEST_MAX_JSON_DEPTH, or runs ingest accepted are dead-lettered.
   */
  RUNHOOKS_MAX_RUN_DEPTH: z.coerce.number().int().min(8).max(1000).default(DEFAULT_MAX_RUN_DEPTH),
  /**
   * How long (stream time) a run of a trace-aware rule waits for its trace, and a trace's facts are
   * remembered, when the rule names no `trace_horizon_seconds` (DESIGN.md §4). Part of what decides a
   * run's fate, like RUNHOOKS_MAX_RUN_DEPTH; a restart refolds twice the longest horizon in force.
   */
  RUNHOOKS_TRACE_HORIZON_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_TRACE_HORIZON_SECONDS)
    .default(DEFAULT_TRACE_HORIZON_SECONDS),
  /** Open traces a runs partition may hold; past it the traces due soonest are decided early. */
  RUNHOOKS_MAX_OPEN_TRACES: z.coerce.number().int().min(100).default(DEFAULT_TRACE_LIMITS.maxTraces),
  /** Bytes of runs waiting for their trace a runs partition may hold; past it, the same. */
  RUNHOOKS_MAX_HELD_RUN_BYTES: z.coerce
    .number()
    .int()
    .min(1024 * 1024)
    .default(DEFAULT_TRACE_LIMITS.maxHeldBytes),
};

/**
 * The evaluator's whole configuration, parsed once at start: the shared settings (ServiceEnv) but the
 * database's, which it does not use, and its own.
 */
export const EvaluatorEnv = ServiceEnv.omit({ DATABASE_URL: true, RUNHOOKS_DB_POOL_SIZE: true })
  .extend({
    /**
     * Consumer group of the runs topic: all evaluator instances of one installation share it. Unset:
     * `<RUNHOOKS_TOPIC_PREFIX>-evaluator` (resolveEvaluatorGroup, group.ts).
     */
    RUNHOOKS_EVALUATOR_GROUP: z.string().min(1).optional(),
    ...JudgingEnv,
    /** How long a partition reads nothing before it gets a tick (idle-ticks.ts; the wall clock only decides when to tick). */
    RUNHOOKS_TICK_INTERVAL_MS: z.coerce.number().int().min(10).max(10_000).default(200),
    /**
     * Least wall-clock ms between two trace snapshots of a runs partition (the open traces, written
     * before a commit): a restart refolds whole what came after the last one. 0: one with every commit.
     */
    RUNHOOKS_TRACE_SNAPSHOT_INTERVAL_MS: z.coerce.number().int().min(0).max(60_000).default(5000),
    /**
     * Whether a flush's parts for one windows partition go as one bundle (`runhooks-kind: parts`) or
     * each as a single part message. A delivery that does not read bundles dead-letters them as
     * invalid: keep this false until every delivery reads bundles (docs/operating.md, Upgrading).
     */
    RUNHOOKS_WINDOWS_BUNDLES: envFlag("true"),
    /** How soon the partitions of a crashed instance move to the others (the broker's minimum is 6 s). */
    RUNHOOKS_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).max(300_000).default(10_000),
    /** Health and metrics HTTP port on 127.0.0.1; 0 picks a free port, -1 disables it. */
    RUNHOOKS_EVALUATOR_PORT: z.coerce.number().int().min(-1).max(65535).default(8081),
    RUNHOOKS_EVALUATOR_HOST: z.string().default("127.0.0.1"),
  })
  .superRefine(refineServiceEnv);
export type EvaluatorEnv = z.infer<typeof EvaluatorEnv>;

export function readEvaluatorEnv(env: NodeJS.ProcessEnv = process.env): EvaluatorEnv {
  return parseEnv(EvaluatorEnv, env, "evaluator configuration");
}
