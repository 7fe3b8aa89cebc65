import { randomUUID } from "node:crypto";
import type { Kafka, KafkaMessage } from "kafkajs";

export interface ReadMessage {
  readonly partition: number;
  readonly message: KafkaMessage;
}

/**
 * The first `count` messages of a topic, read from the beginning with a throw-away consumer group.
 * Counted by log position: a rebalance while a new group settles may hand a message over twice (Kafka
 * is at least once), which is not what a test reading a topic back is about.
 */
export async function readTopic(kafka: Kafka, topic: string, count: number): Promise<ReadMessage[]> {
  if (count === 0) return [];
  const byPosition = new Map<string, ReadMessage>();
  const consumer = kafka.consumer({ groupId: `read-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: ({ partition, message }) => {
            byPosition.set(`${partition}:${message.offset}`, { partition, message });
            if (byPosition.size >= count) resolve();
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return [...byPosition.values()];
}
