import type { Message } from "kafkajs";

/**
 * kafkajs sends all messages of a partition in one record batch, and the broker refuses a batch over
 * its `message.max.bytes` (1 MiB by default); a window alone stays under MAX_WINDOW_BYTES.
 */
export const SEND_BUDGET_BYTES = 900 * 1024;

export type TopicMessages = { topic: string; messages: Message[] };

/** Splits what a batch publishes into sends of at most `budget` bytes of values (one message may exceed it alone). */
export function byteBudgetChunks(out: readonly TopicMessages[], budget: number): TopicMessages[][] {
  const chunks: TopicMessages[][] = [];
  let current: TopicMessages[] = [];
  let bytes = 0;
  for (const { topic, messages } of out) {
    for (const message of messages) {
      const size = typeof message.value === "string" ? message.value.length : (message.value?.length ?? 0);
      if (bytes + size > budget && bytes > 0) {
        chunks.push(current);
        current = [];
        bytes = 0;
      }
      const last = current.at(-1);
      if (last?.topic === topic) last.messages.push(message);
      else current.push({ topic, messages: [message] });
      bytes += size;
    }
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

