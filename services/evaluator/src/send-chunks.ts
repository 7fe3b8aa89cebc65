import { assembledBytesBound, keepSlices } from "@runhooks/kafka";
import type { Message } from "kafkajs";

/**
 * The broker refuses a record batch over its `message.max.bytes` (1 MiB by default), and kafkajs sends
 * the messages of one partition in a send as one record batch: a send holds at most this many bytes of
 * records per topic-partition (before compression, so it holds whatever the data; a window alone stays
 * under MAX_WINDOW_BYTES). A sliced value (a bundle of window parts, packages/kafka sliced-value.ts)
 * counts what it adds at most to its batch once compressed: a run another bundle of the batch holds
 * already costs ~8% of its size.
 */
export const PARTITION_BUDGET_BYTES = 900 * 1024;
/** And at most this many bytes in all: one produce request, well under the broker's request limit. */
export const SEND_BUDGET_BYTES = 16 * 1024 * 1024;

const NOTHING_SEEN: ReadonlySet<Uint8Array> = new Set();

export type TopicMessages = { topic: string; messages: Message[] };

/**
 * What a record adds to its batch besides its value: key, headers and the record's own framing (length,
 * attributes, deltas, key and value lengths, header count: ≤ 24 bytes of varints; ≤ 4 per header). A
 * sliced value is counted at its compressed bound, but its record's key and headers go into the batch as
 * they are, so they count in full.
 */
function recordOverhead(message: Message): number {
  let bytes = 24 + (message.key == null ? 0 : Buffer.byteLength(message.key));
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    for (const v of Array.isArray(value) ? value : [value])
      bytes += 4 + Buffer.byteLength(name) + (v === undefined ? 0 : Buffer.byteLength(v));
  }
  return bytes;
}

const sizeOf = (message: Message, seen: ReadonlySet<Uint8Array>) =>
  recordOverhead(message) +
  (typeof message.value === "string"
    ? message.value.length
    : (assembledBytesBound(message.value, seen) ?? message.value?.length ?? 0));

/**
 * Splits what a flush publishes into sends of at most `partitionBudget` bytes of values per
 * topic-partition and `sendBudget` in all, keeping the order within each topic. Messages without an
 * explicit partition count as one partition of their topic (the partitioner may put them together).
 * A message bigger than the budget goes alone. Fewer, larger record batches matter: each costs kafkajs
 * its own encoders, compression call and checksum, and the broker its own validation.
 */
export function byteBudgetChunks(
  out: readonly TopicMessages[],
  partitionBudget: number,
  sendBudget = Number.POSITIVE_INFINITY,
): TopicMessages[][] {
  const chunks: TopicMessages[][] = [];
  let current: TopicMessages[] = [];
  let perPartition = new Map<string, { bytes: number; readonly seen: Set<Uint8Array> }>();
  let total = 0;
  for (const { topic, messages } of out) {
    for (const message of messages) {
      const key = `${topic}\u0000${message.partition ?? ""}`;
      let batch = perPartition.get(key);
      let size = sizeOf(message, batch?.seen ?? NOTHING_SEEN);
      if ((batch !== undefined && batch.bytes + size > partitionBudget) || (total + size > sendBudget && total > 0)) {
        chunks.push(current);
        current = [];
        perPartition = new Map();
        total = 0;
        batch = undefined;
        size = sizeOf(message, NOTHING_SEEN);
      }
      if (batch === undefined) perPartition.set(key, (batch = { bytes: 0, seen: new Set() }));
      keepSlices(message.value, batch.seen);
      const last = current.at(-1);
      if (last?.topic === topic) last.messages.push(message);
      else current.push({ topic, messages: [message] });
      batch.bytes += size;
      total += size;
    }
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
