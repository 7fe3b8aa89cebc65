import { RuleError } from "@runhooks/contracts";
import { recordRuleErrors, type Database } from "@runhooks/db";
import { groupConsumer } from "@runhooks/kafka";
import type { Consumer, Kafka } from "kafkajs";

export interface RuleErrorsConsumerOptions {
  readonly kafka: Kafka;
  readonly db: Database;
  readonly topic: string;
  readonly groupId: string;
  readonly log: { warn(fields: object, message: string): void; error(fields: object, message: string): void };
  readonly onStored?: (n: number) => void;
}

export interface RuleErrorsConsumer {
  stop(): Promise<void>;
}

/**
 * Stores the evaluator's rule-error records in Postgres for `GET /rules/:id/errors`. A batch's records
 * are stored in one statement before its offsets are committed; a failure retries the batch (stored
 * records are ignored the second time). A record that does not parse is logged and skipped: it can only
 * come from something other than an evaluator, and must not hold up the rest.
 */
export async function startRuleErrorsConsumer(o: RuleErrorsConsumerOptions): Promise<RuleErrorsConsumer> {
  const consumer: Consumer = groupConsumer(o.kafka, { groupId: o.groupId, maxWaitTimeInMs: 250 });
  await consumer.connect();
  await consumer.subscribe({ topic: o.topic, fromBeginning: true });
  await consumer.run({
    eachBatchAutoResolve: true,
    eachBatch: async ({ batch }) => {
      const records: RuleError[] = [];
      for (const message of batch.messages) {
        let value: unknown;
        try {
          value = JSON.parse(message.value?.toString("utf8") ?? "null");
        } catch {
          value = undefined;
        }
        const parsed = RuleError.safeParse(value);
        if (parsed.success) records.push(parsed.data);
        else
          o.log.warn(
            { topic: o.topic, partition: batch.partition, offset: message.offset },
            "skipping a rule-error record that does not parse",
          );
      }
      const stored = await recordRuleErrors(o.db, records);
      o.onStored?.(stored);
    },
  });
  return {
    async stop() {
      await consumer.disconnect();
    },
  };
}
