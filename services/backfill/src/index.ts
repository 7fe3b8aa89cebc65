import { claimBackfill, connectDatabase, migrate, requireSecretsKeyring, type SecretKeyring } from "@runhooks/db";
import { createKafka, kafkaSecurityOf, topicNames, type KafkaSecurity } from "@runhooks/kafka";
import type { TraceLimits } from "@runhooks/rules";
import {
  createTelemetry,
  jsonLogger,
  OTEL_OFF,
  otelConfigFromEnv,
  startHttp,
  type Logger,
  type OtelConfig,
} from "@runhooks/telemetry";
import { resolveEvaluatorGroup } from "@runhooks/evaluator";
import type { BackfillEnv } from "./env.js";
import type { BackfillContext } from "./context.js";
import { createBackfillCounters, registerBackfillMetrics, type BackfillCounters } from "./metrics.js";
import { runBackfill, type RunOutcome } from "./runner.js";
import { VERSION } from "./version.js";

export { BackfillEnv, readBackfillEnv } from "./env.js";
export {
  evaluatorPositions,
  groupLag,
  liveBehindMs,
  minRunsPerS,
  nextRunsPerS,
  paceAfter,
  PACE_CREDIT_MS,
  throttleWaitMs,
} from "./throttle.js";
export { backfillBody } from "./window-body.js";
export { BACKFILL_METRICS } from "./metrics.js";
export type { BackfillCounters } from "./metrics.js";

export interface BackfillOptions {
  readonly brokers: readonly string[];
  readonly kafkaSecurity?: KafkaSecurity;
  readonly databaseUrl: string;
  /** The keys opening webhook secrets (RUNHOOKS_SECRETS_KEY): a version's webhooks cannot be read without them. */
  readonly secrets: SecretKeyring | undefined;
  readonly topicPrefix: string;
  readonly instanceId: string;
  readonly maxRunsPerS: number;
  readonly maxLiveLag: number;
  readonly leaseMs: number;
  readonly pollMs: number;
  /** Bytes fetched per partition per batch (default 1 MiB). */
  readonly fetchBytes?: number;
  /** The live evaluators' group (RUNHOOKS_EVALUATOR_GROUP); unset: as the evaluators resolve it. */
  readonly evaluatorGroup?: string;
  readonly maxRunBytes: number;
  readonly maxRunDepth: number;
  readonly traceHorizonSeconds: number;
  readonly traceLimits: TraceLimits;
  readonly migrate?: boolean;
  /** /healthz and /metrics (absent: no HTTP server). */
  readonly http?: { readonly host: string; readonly port: number };
  readonly otel?: OtelConfig;
  readonly log?: Logger;
  /** Told of each run's end (tests and the bench wait on it). */
  readonly onRunEnd?: (backfillId: string, outcome: RunOutcome) => void;
}

export function backfillOptionsFromEnv(env: BackfillEnv, log: Logger): BackfillOptions {
  return {
    brokers: env.KAFKA_BROKERS,
    kafkaSecurity: kafkaSecurityOf(env),
    databaseUrl: env.DATABASE_URL,
    secrets: requireSecretsKeyring(env),
    topicPrefix: env.RUNHOOKS_TOPIC_PREFIX,
    instanceId: env.RUNHOOKS_INSTANCE_ID,
    maxRunsPerS: env.RUNHOOKS_BACKFILL_MAX_RUNS_PER_S,
    maxLiveLag: env.RUNHOOKS_BACKFILL_MAX_LIVE_LAG,
    leaseMs: env.RUNHOOKS_BACKFILL_LEASE_MS,
    pollMs: env.RUNHOOKS_BACKFILL_POLL_MS,
    fetchBytes: env.RUNHOOKS_BACKFILL_FETCH_BYTES,
    ...(env.RUNHOOKS_EVALUATOR_GROUP === undefined ? {} : { evaluatorGroup: env.RUNHOOKS_EVALUATOR_GROUP }),
    maxRunBytes: env.RUNHOOKS_MAX_RUN_BYTES,
    maxRunDepth: env.RUNHOOKS_MAX_RUN_DEPTH,
    traceHorizonSeconds: env.RUNHOOKS_TRACE_HORIZON_SECONDS,
    traceLimits: { maxTraces: env.RUNHOOKS_MAX_OPEN_TRACES, maxHeldBytes: env.RUNHOOKS_MAX_HELD_RUN_BYTES },
    ...(env.RUNHOOKS_BACKFILL_PORT >= 0
      ? { http: { host: env.RUNHOOKS_BACKFILL_HOST, port: env.RUNHOOKS_BACKFILL_PORT } }
      : {}),
    otel: otelConfigFromEnv(env),
    log,
  };
}

export interface BackfillService {
  /** Where /healthz and /metrics answer, when `http` was given. */
  readonly url?: string;
  readonly counters: BackfillCounters;
  stop(): Promise<void>;
}

/**
 * The backfill service (DESIGN.md §4 "Backfills"): claims one backfill at a time (oldest first, under a
 * lease), runs it to its end, and looks again; idle, it looks every `pollMs`. Several processes share
 * the backfills; a backfill is run by one at a time.
 */
export async function startBackfillService(o: BackfillOptions): Promise<BackfillService> {
  const log = o.log ?? jsonLogger("backfill", "info");
  const db = connectDatabase({
    url: o.databaseUrl,
    poolSize: 4,
    applicationName: `runhooks-backfill-${o.instanceId}`,
    secrets: o.secrets,
  });
  if (o.migrate ?? true) await migrate(db);
  const kafka = createKafka({
    brokers: o.brokers,
    clientId: `runhooks-backfill-${o.instanceId}`,
    security: o.kafkaSecurity,
    logger: (level, message, fields) => log(level, message, fields),
  });
  const admin = kafka.admin();
  await admin.connect();
  const topics = topicNames(o.topicPrefix);
  // The group whose lag throttles backfills is the one the live evaluators joined: resolved alike.
  const evaluators = await resolveEvaluatorGroup(admin, {
    configured: o.evaluatorGroup,
    topicPrefix: o.topicPrefix,
    runsTopic: topics.runs,
  }).catch(async (error: unknown) => {
    // A lookup that failed (GroupLookupError) starts nothing: what is open is closed.
    await Promise.all([admin.disconnect(), db.dispose()]);
    throw error;
  });
  if (evaluators.kind === "legacy")
    log("warn", evaluators.warning, { groupId: evaluators.groupId, derived: evaluators.derived });
  const counters = createBackfillCounters();
  const telemetry = createTelemetry(o.otel ?? OTEL_OFF, {
    name: "runhooks-backfill",
    version: VERSION,
    instanceId: o.instanceId,
  });
  registerBackfillMetrics(telemetry.meter, counters);
  /** Why the last look for a backfill failed; undefined once one succeeds. */
  let unhealthy: string | undefined;
  let stopping = false;
  let wake: () => void = () => {};
  const ctx: BackfillContext = {
    db,
    kafka,
    admin,
    topics,
    log,
    counters,
    o: {
      topicPrefix: o.topicPrefix,
      leaseMs: o.leaseMs,
      fetchBytes: o.fetchBytes ?? 1024 * 1024,
      maxRunsPerS: o.maxRunsPerS,
      maxLiveLag: o.maxLiveLag,
      evaluatorGroup: evaluators.groupId,
      limits: { maxBytes: o.maxRunBytes, maxDepth: o.maxRunDepth },
      traceHorizonSeconds: o.traceHorizonSeconds,
      traceLimits: o.traceLimits,
    },
    stopping: () => stopping,
  };
  const loop = (async () => {
    while (!stopping) {
      const job = await claimBackfill(db, o.instanceId, o.leaseMs).then(
        (claimed) => {
          unhealthy = undefined;
          return claimed;
        },
        (error: unknown) => {
          log("warn", "could not look for a backfill", { error: String(error) });
          unhealthy = "cannot look for backfills in PostgreSQL";
          return undefined;
        },
      );
      if (job === undefined) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, o.pollMs);
        });
        continue;
      }
      log("info", "running a backfill", { backfill_id: job.id, rule_id: job.ruleId, fencing_token: job.fencingToken });
      counters.running = 1;
      const outcome = await runBackfill(ctx, job).finally(() => (counters.running = 0));
      counters.runsEnded[outcome]++;
      log("info", "backfill run ended", { backfill_id: job.id, outcome });
      o.onRunEnd?.(job.id, outcome);
    }
  })();
  const http = o.http
    ? await startHttp(o.http.host, o.http.port, {
        health: () => unhealthy,
        metrics: () => telemetry.prometheus(),
      })
    : undefined;
  log("info", "backfill service started", { http: http?.url });
  return {
    ...(http ? { url: http.url } : {}),
    counters,
    async stop() {
      stopping = true;
      wake();
      await loop;
      await admin.disconnect().catch(() => {});
      await db.dispose();
      await new Promise((resolve) => (http ? http.server.close(resolve) : resolve(undefined)));
      await telemetry
        .shutdown()
        .catch((error: unknown) => log("warn", "could not export the last telemetry", { error: String(error) }));
    },
  };
}
