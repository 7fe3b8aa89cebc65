import { kafkaSecurityOf, type KafkaSecurity, type TopicNames } from "@runhooks/kafka";
import type { TraceLimits } from "@runhooks/rules";
import { otelConfigFromEnv, type Logger, type OtelConfig } from "@runhooks/telemetry";
import type { EvaluatorEnv } from "./env.js";

/** Least wall-clock time between two trace snapshots of a runs partition (DESIGN.md §4, restart). */
export const DEFAULT_TRACE_SNAPSHOT_INTERVAL_MS = 5000;

export interface EvaluatorOptions {
  readonly brokers: readonly string[];
  /** TLS and SASL to the brokers (KAFKA_TLS_*, KAFKA_SASL_*); default PLAINTEXT. */
  readonly kafkaSecurity?: KafkaSecurity;
  readonly topicPrefix: string;
  /**
   * The runs topic's consumer group (RUNHOOKS_EVALUATOR_GROUP). Unset: `<prefix>-evaluator`, or
   * `runhooks-evaluator` while only that group holds checkpoints of the runs topic (group.ts).
   */
  readonly groupId?: string;
  readonly instanceId: string;
  readonly maxRunBytes: number;
  /** Deepest nesting of objects/arrays a run may have (default DEFAULT_MAX_RUN_DEPTH); deeper ones are dead-lettered. */
  readonly maxRunDepth?: number;
  readonly tickIntervalMs: number;
  /** Horizon of trace-aware rules that name none (default DEFAULT_TRACE_HORIZON_SECONDS). */
  readonly traceHorizonSeconds?: number;
  /** What one runs partition's trace fold may hold (default DEFAULT_TRACE_LIMITS). */
  readonly traceLimits?: TraceLimits;
  /** Least ms between two trace snapshots of a partition (default DEFAULT_TRACE_SNAPSHOT_INTERVAL_MS; 0: every commit). */
  readonly traceSnapshotIntervalMs?: number;
  /** Publish a flush's parts bundled per windows partition (default) or each as a single part message. */
  readonly windowsBundles?: boolean;
  /** Consumer group session timeout: how soon a crashed instance's partitions move (broker minimum 6 s). */
  readonly sessionTimeoutMs?: number;
  /** Override single topic names, e.g. to write windows of a shadow evaluation elsewhere. */
  readonly topicOverrides?: Partial<TopicNames>;
  /** How often rule versions no refold can need are dropped (default VERSION_DROP_INTERVAL_MS). */
  readonly versionDropIntervalMs?: number;
  /** Called when the evaluator cannot go on (a non-retriable Kafka error); defaults to logging it. */
  readonly onFatal?: (error: Error) => void;
  /** Health/metrics server; omit to run without one. */
  readonly http?: { readonly host: string; readonly port: number };
  readonly log?: Logger;
  /** OpenTelemetry (OTEL_* variables); default: no export, metrics on /metrics only. */
  readonly otel?: OtelConfig;
}

/** The evaluator's options as its environment sets them (main.ts and the engine's start share this). */
export function evaluatorOptionsFromEnv(env: EvaluatorEnv, log: Logger): EvaluatorOptions {
  return {
    brokers: env.KAFKA_BROKERS,
    kafkaSecurity: kafkaSecurityOf(env),
    topicPrefix: env.RUNHOOKS_TOPIC_PREFIX,
    ...(env.RUNHOOKS_EVALUATOR_GROUP === undefined ? {} : { groupId: env.RUNHOOKS_EVALUATOR_GROUP }),
    instanceId: env.RUNHOOKS_INSTANCE_ID,
    maxRunBytes: env.RUNHOOKS_MAX_RUN_BYTES,
    maxRunDepth: env.RUNHOOKS_MAX_RUN_DEPTH,
    tickIntervalMs: env.RUNHOOKS_TICK_INTERVAL_MS,
    traceHorizonSeconds: env.RUNHOOKS_TRACE_HORIZON_SECONDS,
    traceLimits: { maxTraces: env.RUNHOOKS_MAX_OPEN_TRACES, maxHeldBytes: env.RUNHOOKS_MAX_HELD_RUN_BYTES },
    traceSnapshotIntervalMs: env.RUNHOOKS_TRACE_SNAPSHOT_INTERVAL_MS,
    windowsBundles: env.RUNHOOKS_WINDOWS_BUNDLES,
    sessionTimeoutMs: env.RUNHOOKS_SESSION_TIMEOUT_MS,
    ...(env.RUNHOOKS_EVALUATOR_PORT >= 0
      ? { http: { host: env.RUNHOOKS_EVALUATOR_HOST, port: env.RUNHOOKS_EVALUATOR_PORT } }
      : {}),
    log,
    otel: otelConfigFromEnv(env),
  };
}
