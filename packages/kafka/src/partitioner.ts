import { randomBytes } from "node:crypto";
import type { ICustomPartitioner, PartitionerArgs } from "kafkajs";

const M = 0x5bd1e995;
const SEED = 0x9747b28c;

/**
 * Kafka's murmur2 (the Java client's `Utils.murmur2`, which kafkajs' default partitioner copies) in
 * 32-bit integer arithmetic. kafkajs computes it with a BigInt-backed Long per step — a dozen
 * allocations per 4 key bytes, ~5 KB of garbage per 36-byte key — for the same low 32 bits.
 */
export function murmur2(key: Uint8Array): number {
  const length = key.length;
  let h = (SEED ^ length) | 0;
  const end = length & ~3;
  for (let i = 0; i < end; i += 4) {
    let k = key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest > 0) {
    if (rest === 3) h ^= key[end + 2]! << 16;
    if (rest >= 2) h ^= key[end + 1]! << 8;
    h ^= key[end]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** A key's bytes as kafkajs takes them: a Buffer as it is, anything else as the UTF-8 of its text. */
function keyBytes(key: Buffer | string): Uint8Array {
  return Buffer.isBuffer(key) ? key : Buffer.from(String(key));
}

const toPositive = (x: number) => x & 0x7fffffff;

/**
 * kafkajs' `Partitioners.DefaultPartitioner` (Java's rule: an explicit partition as given, a key by
 * murmur2, no key round robin over the partitions with a leader), with the allocation-free murmur2:
 * every message lands where the default partitioner would put it (a differential test holds it to that).
 */
export const JavaCompatiblePartitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>();
  return ({ topic, partitionMetadata, message }: PartitionerArgs) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const numPartitions = partitionMetadata.length;
    if (message.key !== null && message.key !== undefined)
      return toPositive(murmur2(keyBytes(message.key))) % numPartitions;
    const next = (counters.get(topic) ?? randomBytes(4).readUInt32BE(0)) + 1;
    counters.set(topic, next);
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    if (available.length > 0) return available[toPositive(next) % available.length]!.partitionId;
    return toPositive(next) % numPartitions;
  };
};
