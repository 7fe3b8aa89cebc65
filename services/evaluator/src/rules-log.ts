import { applyRuleVersions, createRuleBook, type RuleBook, type RuleVersionMessage } from "@runhooks/rules";
import { groupConsumer } from "@runhooks/kafka";
import type { Consumer, Kafka, Producer } from "kafkajs";
import type { Counters } from "./counters.js";
import { KIND_HEADER, RULES_TICK_KEY, TICK, tickValue } from "./headers.js";
import { decodeRuleMessage } from "./rule-message.js";
import type { Logger } from "@runhooks/telemetry";

/** Each instance's private consumer groups over the rules topic (a prefixed ACL covers them). */
export const RULES_GROUP_PREFIX = "runhooks-evaluator-rules-";

/** Bytes one fetch of the rules topic may bring (it has one partition). */
const RULES_FETCH_BYTES = 8 * 1024 * 1024;

export interface RulesLog {
  readonly book: RuleBook;
  /** Highest append time read from the rules topic (ticks included); -Infinity before the first. */
  watermark(): number;
  /**
   * Resolves once the rules topic has been read past `time`, so every version in force at `time` is
   * known. Appends ticks to the rules topic while it waits, so this holds even when no rule changes.
   */
  waitPast(time: number, keepAlive?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

export interface RulesLogOptions {
  readonly kafka: Kafka;
  readonly producer: Producer;
  readonly topic: string;
  readonly instanceId: string;
  readonly log: Logger;
  readonly counters: Counters;
  /** Horizon of trace-aware rule versions that name none. */
  readonly traceHorizonSeconds?: number | undefined;
}

/**
 * Reads the whole rules topic into a rule book and keeps following it. Each instance reads every
 * version (a private consumer group that never commits), so any instance can judge any partition.
 */
export async function startRulesLog(o: RulesLogOptions): Promise<RulesLog> {
  const book = createRuleBook(
    o.traceHorizonSeconds === undefined ? {} : { traceHorizonSeconds: o.traceHorizonSeconds },
  );
  let watermark = Number.NEGATIVE_INFINITY;
  const waiters = new Set<() => void>();
  let tickInFlight: Promise<void> | undefined;

  const consumer: Consumer = groupConsumer(o.kafka, {
    groupId: `${RULES_GROUP_PREFIX}${o.instanceId}-${Date.now()}`,
    maxWaitTimeInMs: 50,
    // A start reads the whole topic (~450 bytes a version): large fetches, few round trips.
    maxBytesPerPartition: RULES_FETCH_BYTES,
    maxBytes: RULES_FETCH_BYTES,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: o.topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    // A batch at a time: its versions are applied together (`applyRuleVersions`), then the watermark
    // moves past them, so whoever waits for it finds them in the book.
    eachBatch: async (payload) => {
      const { batch } = payload;
      const versions: RuleVersionMessage[] = [];
      let last = watermark;
      for (const message of batch.messages) {
        const time = Number(message.timestamp);
        if (time > last) last = time;
        const decoded = decodeRuleMessage(message.key, message.value, message.headers, time);
        if (decoded.kind === "version") versions.push(decoded.message);
        else if (decoded.kind === "unreadable") {
          o.counters.rulesInvalid++;
          o.log("error", "unreadable rule version on the rules topic; ignored", {
            ruleId: decoded.ruleId,
            offset: message.offset,
            error: decoded.error,
          });
        }
      }
      const outcomes = applyRuleVersions(book, versions);
      for (const [i, outcome] of outcomes.entries()) {
        if (outcome.kind === "invalid_filter") {
          o.counters.rulesInvalid++;
          o.log("error", "rule version has an invalid filter; it matches nothing", { ...outcome });
        } else {
          o.log("debug", "rule version", { ...outcome, effectiveFrom: versions[i]!.effectiveFrom });
        }
      }
      if (last > watermark) {
        watermark = last;
        for (const wake of waiters) wake();
        waiters.clear();
      }
      await payload.heartbeat();
    },
  });

  const appendTick = (): Promise<void> => {
    tickInFlight ??= o.producer
      .send({
        topic: o.topic,
        acks: -1,
        messages: [{ key: RULES_TICK_KEY, value: tickValue(o.instanceId), headers: { [KIND_HEADER]: TICK } }],
      })
      .then(() => {
        o.counters.ticksWritten++;
      })
      .finally(() => {
        tickInFlight = undefined;
      });
    return tickInFlight;
  };

  return {
    book,
    watermark: () => watermark,
    async waitPast(time, keepAlive) {
      while (watermark <= time) {
        const moved = new Promise<void>((resolve) => {
          waiters.add(resolve);
          setTimeout(resolve, 250).unref();
        });
        await appendTick().catch((error: unknown) =>
          o.log("warn", "could not append a rules tick; retrying", { error: String(error) }),
        );
        await moved;
        await keepAlive?.();
      }
    },
    async stop() {
      await consumer.disconnect();
    },
  };
}
