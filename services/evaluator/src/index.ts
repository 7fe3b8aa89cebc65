import { JavaCompatiblePartitioner, createKafka, topicNames, type TopicNames } from "@runhooks/kafka";
import { DEFAULT_TRACE_LIMITS } from "@runhooks/rules";
import { createCounters, type Counters } from "./counters.js";
import {
  OTEL_OFF,
  createTelemetry,
  jsonLogger,
  startHttp,
  trackConsumerLag,
  type ConsumerLag,
} from "@runhooks/telemetry";
import { registerEvaluatorMetrics } from "./metrics.js";
import { VERSION } from "./version.js";
import { createRunsTracing } from "./tracing.js";
import { startRulesLog } from "./rules-log.js";
import { startRunsConsumer } from "./runs-consumer.js";
import { startSnapshotReader } from "./trace-snapshots.js";
import { DEFAULT_MAX_RUN_DEPTH } from "./decode.js";
import { VERSION_DROP_INTERVAL_MS, startVersionDrops, type VersionDrops } from "./version-drops.js";
import { DEFAULT_TRACE_SNAPSHOT_INTERVAL_MS, type EvaluatorOptions } from "./options.js";
import { resolveEvaluatorGroup } from "./group.js";

export { readEvaluatorEnv, EvaluatorEnv, JudgingEnv } from "./env.js";
export { DEFAULT_EVALUATOR_GROUP, EVALUATOR_GROUP_VARIABLE, evaluatorGroup, resolveEvaluatorGroup } from "./group.js";
export type { EvaluatorGroupSettings } from "./group.js";
export { RULES_GROUP_PREFIX } from "./rules-log.js";
export { EVALUATOR_NODE_FLAGS } from "./node-flags.js";
export { VERSION_DROP_INTERVAL_MS } from "./version-drops.js";
export { evaluatorOptionsFromEnv } from "./options.js";
export type { EvaluatorOptions } from "./options.js";
export { EVALUATOR_METRICS } from "./metrics.js";
export { RUNS_PARTITIONS_CONCURRENTLY, runsConsumerConfig } from "./runs-consumer.js";
export { PARTITION_BUDGET_BYTES, SEND_BUDGET_BYTES, byteBudgetChunks } from "./send-chunks.js";
export { windowMessages } from "./part-message.js";

export interface Evaluator {
  readonly topics: TopicNames;
  readonly counters: Counters;
  /** Base URL of the health/metrics server, when one runs. */
  readonly url?: string;
  /** Drops the rule versions the group's checkpoints no longer need (as it does every interval). */
  readonly versionDrops: Pick<VersionDrops, "dropNow">;
  /** Closes what can be closed, commits, and leaves the consumer group. */
  stop(): Promise<void>;
}

/** The evaluator's composition root: runs + rules topics in, window parts and watermarks (and dead letters) out. */
export async function startEvaluator(o: EvaluatorOptions): Promise<Evaluator> {
  const log = o.log ?? jsonLogger("evaluator", "info");
  const counters = createCounters();
  const topics: TopicNames = { ...topicNames(o.topicPrefix), ...o.topicOverrides };
  const kafka = createKafka({
    brokers: o.brokers,
    clientId: `runhooks-evaluator-${o.instanceId}`,
    security: o.kafkaSecurity,
    logger: (level, message, fields) => log(level, message, fields),
  });
  const telemetry = createTelemetry(o.otel ?? OTEL_OFF, {
    name: "runhooks-evaluator",
    version: VERSION,
    instanceId: o.instanceId,
  });
  let lag: ConsumerLag = { observations: () => [] };
  // Java's rule (murmur2 of the key), as kafkajs' default partitioner, without its garbage.
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: JavaCompatiblePartitioner });
  const admin = kafka.admin();
  await Promise.all([producer.connect(), admin.connect()]);
  const group = await resolveEvaluatorGroup(admin, {
    configured: o.groupId,
    topicPrefix: o.topicPrefix,
    runsTopic: topics.runs,
  }).catch(async (error: unknown) => {
    await Promise.all([producer.disconnect(), admin.disconnect()]);
    throw error;
  });
  if (group.kind === "legacy") log("warn", group.warning, { groupId: group.groupId, derived: group.derived });
  const groupId = group.groupId;
  const rules = await startRulesLog({
    kafka,
    producer,
    topic: topics.rules,
    instanceId: o.instanceId,
    log,
    counters,
    traceHorizonSeconds: o.traceHorizonSeconds,
  });
  const snapshots = await startSnapshotReader(kafka, topics.traces, o.instanceId, log);
  const runs = await startRunsConsumer({
    kafka,
    admin,
    producer,
    topics,
    groupId,
    instanceId: o.instanceId,
    rules,
    limits: { maxBytes: o.maxRunBytes, maxDepth: o.maxRunDepth ?? DEFAULT_MAX_RUN_DEPTH },
    tickIntervalMs: o.tickIntervalMs,
    traceLimits: o.traceLimits ?? DEFAULT_TRACE_LIMITS,
    snapshots,
    snapshotIntervalMs: o.traceSnapshotIntervalMs ?? DEFAULT_TRACE_SNAPSHOT_INTERVAL_MS,
    windowsBundles: o.windowsBundles ?? true,
    sessionTimeoutMs: o.sessionTimeoutMs ?? 10_000,
    onFatal: o.onFatal ?? ((error) => log("error", "evaluator stopped consuming", { error: String(error) })),
    log,
    counters,
    tracing: createRunsTracing(telemetry, { runsTopic: topics.runs, windowsTopic: topics.windows, group: groupId }),
    observeConsumer: (consumer) => (lag = trackConsumerLag(consumer)),
  });
  const versionDrops = startVersionDrops({
    admin,
    groupId,
    runsTopic: topics.runs,
    rules,
    intervalMs: o.versionDropIntervalMs ?? VERSION_DROP_INTERVAL_MS,
    log,
    counters,
  });
  registerEvaluatorMetrics(
    telemetry.meter,
    counters,
    {
      rulesKnown: () => rules.book.rules.size,
      assignedPartitions: () => runs.partitions().length,
      openWindows: () => runs.partitions().reduce((n, p) => n + p.openWindows, 0),
      openTraces: () => runs.partitions().reduce((n, p) => n + p.openTraces, 0),
      heldRunBytes: () => runs.partitions().reduce((n, p) => n + p.heldRunBytes, 0),
    },
    { observations: () => lag.observations() },
  );
  const http = o.http
    ? await startHttp(o.http.host, o.http.port, {
        health: () => (runs.running() ? undefined : "the runs consumer is not running"),
        metrics: () => telemetry.prometheus(),
      })
    : undefined;
  log("info", "evaluator started", { groupId, topics: topics.runs, http: http?.url });

  return {
    topics,
    counters,
    versionDrops,
    ...(http ? { url: http.url } : {}),
    async stop() {
      versionDrops.stop();
      await runs.stop();
      await Promise.all([rules.stop(), snapshots.stop()]);
      await Promise.all([producer.disconnect(), admin.disconnect()]);
      await new Promise((resolve) => (http ? http.server.close(resolve) : resolve(undefined)));
      // Last: exports the spans and metrics of everything above.
      await telemetry
        .shutdown()
        .catch((error: unknown) => log("warn", "could not export the last telemetry", { error: String(error) }));
      log("info", "evaluator stopped", { counters });
    },
  };
}
// What a backfill (services/backfill) judges each runs message with: the same classification.
export { classifyMessage, foldInputOf } from "./message-class.js";
export type { RunLimits } from "./decode.js";
export { DEFAULT_MAX_RUN_DEPTH } from "./decode.js";
