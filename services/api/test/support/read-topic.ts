import { randomUUID } from "node:crypto";
import type { IHeaders, Kafka } from "kafkajs";

export interface TopicMessage {
  readonly offset: bigint;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: Record<string, string>;
  readonly timestamp: number;
}

function headersOf(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
}

/**
 * Every message of a one-partition topic, from its start to its current end, as a read_committed
 * consumer (the default, like the evaluator) or a read_uncommitted one sees it.
 */
export async function readWholeTopic(
  kafka: Kafka,
  topic: string,
  options: { readUncommitted?: boolean } = {},
): Promise<TopicMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const high = BigInt(offsets[0]!.high);
  if (high === 0n) return [];
  const consumer = kafka.consumer({
    groupId: `read-${randomUUID()}`,
    readUncommitted: options.readUncommitted ?? false,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const messages: TopicMessage[] = [];
  await new Promise<void>((resolve, reject) => {
    // The last offsets may be transaction markers, which no eachMessage sees.
    consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
      if (BigInt(event.payload.lastOffset) >= high - 1n) resolve();
    });
    consumer
      .run({
        autoCommit: false,
        eachMessage: ({ message }) => {
          const offset = BigInt(message.offset);
          messages.push({
            offset,
            key: message.key?.toString() ?? null,
            value: message.value?.toString() ?? null,
            headers: headersOf(message.headers),
            timestamp: Number(message.timestamp),
          });
          if (offset >= high - 1n) resolve();
          return Promise.resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return messages;
}
