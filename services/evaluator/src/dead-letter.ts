import type { DeadLetter, DeadLetterReason } from "@runhooks/contracts";
import type { Message } from "kafkajs";
import type { TopicMessages } from "./send-chunks.js";

/**
 * The dead letter of a runs message: the reason, the error and the original bytes, on the same
 * partition of the dead-letter topic under the original key. Its time is the message's log time, so a
 * replay writes the same record.
 */
export function deadLetterMessage(
  topics: { readonly runs: string; readonly runsDlq: string },
  message: Message & { offset: string },
  partition: number,
  reason: DeadLetterReason,
  error: string,
): TopicMessages {
  const letter: DeadLetter = {
    schema_version: 1,
    reason,
    error,
    original: (message.value ?? Buffer.alloc(0)).toString("base64"),
    topic: topics.runs,
    partition,
    offset: message.offset,
    dead_lettered_at: new Date(Number(message.timestamp)).toISOString(),
  };
  return { topic: topics.runsDlq, messages: [{ key: message.key ?? null, value: JSON.stringify(letter), partition }] };
}
