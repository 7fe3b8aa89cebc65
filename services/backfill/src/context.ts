import type { Database } from "@runhooks/db";
import type { RunLimits } from "@runhooks/evaluator";
import type { TopicNames } from "@runhooks/kafka";
import type { TraceLimits } from "@runhooks/rules";
import type { Logger } from "@runhooks/telemetry";
import type { Admin, Kafka } from "kafkajs";
import type { BackfillCounters } from "./metrics.js";

/** What running a backfill needs. */
export interface BackfillContext {
  readonly db: Database;
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly topics: TopicNames;
  readonly log: Logger;
  readonly counters: BackfillCounters;
  readonly o: {
    readonly topicPrefix: string;
    readonly leaseMs: number;
    readonly fetchBytes: number;
    readonly maxRunsPerS: number;
    readonly maxLiveLag: number;
    readonly evaluatorGroup: string;
    readonly limits: RunLimits;
    readonly traceHorizonSeconds: number;
    readonly traceLimits: TraceLimits;
  };
  /** True once the process is stopping: a run stops where it is (its checkpoint stands). */
  readonly stopping: () => boolean;
}
