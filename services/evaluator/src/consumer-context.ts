import type { TopicNames } from "@runhooks/kafka";
import type { TraceLimits } from "@runhooks/rules";
import type { Logger } from "@runhooks/telemetry";
import type { Admin, Consumer, Kafka, Producer } from "kafkajs";
import type { Counters } from "./counters.js";
import type { RunLimits } from "./decode.js";
import type { PartitionState } from "./partition-state.js";
import type { RulesLog } from "./rules-log.js";
import type { SnapshotReader } from "./trace-snapshots.js";
import type { RunsTracing } from "./tracing.js";
import type { WindowPartitions } from "./window-partitions.js";

export interface RunsConsumerOptions {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly producer: Producer;
  readonly topics: TopicNames;
  readonly groupId: string;
  readonly instanceId: string;
  readonly rules: RulesLog;
  readonly limits: RunLimits;
  readonly tickIntervalMs: number;
  /** What each partition's trace fold may hold. */
  readonly traceLimits: TraceLimits;
  /** Reads a restarted partition's trace snapshot from the traces topic. */
  readonly snapshots: SnapshotReader;
  /** Least wall-clock time between two trace snapshots of a partition (0: one with every commit). */
  readonly snapshotIntervalMs: number;
  /** Parts go bundled per windows partition; false: each as a single part message. */
  readonly windowsBundles: boolean;
  readonly sessionTimeoutMs: number;
  /** Called when the consumer stops for good (a non-retriable error): the process should exit. */
  readonly onFatal: (error: Error) => void;
  readonly log: Logger;
  readonly counters: Counters;
  /** Spans of runs and windows; undefined when tracing is off (then no per-message tracing work). */
  readonly tracing?: RunsTracing | undefined;
  /** Lets metrics follow the consumer (its lag per partition). */
  readonly observeConsumer?: (consumer: Consumer) => void;
}

/**
 * An assigned partition no batch has come from yet: an empty one never gets one, so it is ticked
 * (idle-ticks.ts) like an idle fold. `lastReadAt` is the assignment's time, then the last tick's.
 */
export interface UnstartedPartition {
  tickInFlight: boolean;
  lastReadAt: number;
}

/** What the runs consumer's steps share: its options, its Kafka consumer and every partition's fold. */
export interface RunsConsumerContext {
  readonly o: RunsConsumerOptions;
  /** The runs topic. */
  readonly topic: string;
  /** Replaced by a new one when a crash cost it the group membership (runs-consumer step 3). */
  consumer: Consumer;
  readonly windowsTo: WindowPartitions;
  /**
   * Each assigned partition's fold. A partition without one starts over from its checkpoint on its
   * next batch; a fold dropped from here (rebalance, failed flush) publishes and commits nothing more.
   */
  readonly states: Map<number, PartitionState>;
  /** Assigned partitions of the current generation that no batch came from yet. */
  readonly unstarted: Map<number, UnstartedPartition>;
  /** A flush's error not yet surfaced: the next batch throws it, so kafkajs retries or crashes as it would. */
  failure: Error | undefined;
  /** Set once stopping: nothing more is folded, and a failed flush no longer seeks. */
  stopping: boolean;
  /** Partitions whose trace snapshot could not be restored: they refold the horizon on their next start. */
  readonly withoutSnapshot: Set<number>;
}
