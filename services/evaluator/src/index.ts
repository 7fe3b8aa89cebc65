import { createKafka, topicNames, type TopicNames } from "@runhooks/kafka";
import kafkajs from "kafkajs";
import { createCounters, prometheusText, type Counters } from "./counters.js";
import { jsonLogger, startHttp, type Logger } from "@runhooks/telemetry";
import { startRulesLog } from "./rules-log.js";
import { startRunsConsumer } from "./runs-consumer.js";

export { readEvaluatorEnv, EvaluatorEnv } from "./env.js";
export { decodeRun } from "./decode.js";
export { evaluatorOptionsFromEnv } from "./options.js";
export type { Counters } from "./counters.js";

const { Partitioners } = kafkajs;

export interface EvaluatorOptions {
  readonly brokers: readonly string[];
  readonly topicPrefix: string;
  readonly groupId: string;
  readonly instanceId: string;
  readonly maxRunBytes: number;
  readonly tickIntervalMs: number;
  /** Consumer group session timeout: how soon a crashed instance's partitions move (broker minimum 6 s). */
  readonly sessionTimeoutMs?: number;
  /** Override single topic names, e.g. to write windows of a shadow evaluation elsewhere. */
  readonly topicOverrides?: Partial<TopicNames>;
  /** Called when the evaluator cannot go on (a non-retriable Kafka error); defaults to logging it. */
  readonly onFatal?: (error: Error) => void;
  /** Health/metrics server; omit to run without one. */
  readonly http?: { readonly host: string; readonly port: number };
  readonly log?: Logger;
}

export interface Evaluator {
  readonly topics: TopicNames;
  readonly counters: Counters;
  /** Base URL of the health/metrics server, when one runs. */
  readonly url?: string;
  /** Closes what can be closed, commits, and leaves the consumer group. */
  stop(): Promise<void>;
}

/** The evaluator's composition root: runs + rules topics in, windows (and dead letters) out. */
export async function startEvaluator(o: EvaluatorOptions): Promise<Evaluator> {
  const log = o.log ?? jsonLogger("evaluator", "info");
  const counters = createCounters();
  const topics: TopicNames = { ...topicNames(o.topicPrefix), ...o.topicOverrides };
  const kafka = createKafka({
    brokers: o.brokers,
    clientId: `runhooks-evaluator-${o.instanceId}`,
    logger: (level, message, fields) => log(level, message, fields),
  });
  // Java's partitioner (murmur2), the kafkajs default, stated so kafkajs does not warn about it.
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  const admin = kafka.admin();
  await Promise.all([producer.connect(), admin.connect()]);
  const rules = await startRulesLog({ kafka, producer, topic: topics.rules, instanceId: o.instanceId, log, counters });
  const runs = await startRunsConsumer({
    kafka,
    admin,
    producer,
    topics,
    groupId: o.groupId,
    instanceId: o.instanceId,
    rules,
    maxRunBytes: o.maxRunBytes,
    tickIntervalMs: o.tickIntervalMs,
    sessionTimeoutMs: o.sessionTimeoutMs ?? 10_000,
    onFatal: o.onFatal ?? ((error) => log("error", "evaluator stopped consuming", { error: String(error) })),
    log,
    counters,
  });
  const http = o.http
    ? await startHttp(o.http.host, o.http.port, {
        health: () => (runs.running() ? undefined : "the runs consumer is not running"),
        metrics: () => {
          const gauges: Record<string, number> = {
            runhooks_evaluator_rules_known: rules.book.rules.size,
            runhooks_evaluator_assigned_partitions: runs.partitions().length,
            runhooks_evaluator_open_windows: runs.partitions().reduce((n, p) => n + p.openWindows, 0),
          };
          return prometheusText(counters, gauges);
        },
      })
    : undefined;
  log("info", "evaluator started", { groupId: o.groupId, topics: topics.runs, http: http?.url });

  return {
    topics,
    counters,
    ...(http ? { url: http.url } : {}),
    async stop() {
      await runs.stop();
      await rules.stop();
      await Promise.all([producer.disconnect(), admin.disconnect()]);
      await new Promise((resolve) => (http ? http.server.close(resolve) : resolve(undefined)));
      log("info", "evaluator stopped", { counters });
    },
  };
}
