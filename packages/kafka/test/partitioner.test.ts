import { randomBytes, randomUUID } from "node:crypto";
import kafkajs, { type PartitionMetadata } from "kafkajs";
import { describe, expect, it } from "vitest";
import { JavaCompatiblePartitioner } from "@runhooks/kafka";

const { Partitioners } = kafkajs;

const metadata = (n: number, leaderless: readonly number[] = []): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: leaderless.includes(partitionId) ? -1 : 0,
    replicas: [0],
    isr: [0],
  }));

/** Keys of every shape kafkajs takes: ids, text with multi-byte characters, raw bytes of every length. */
function keys(): (string | Buffer)[] {
  const out: (string | Buffer)[] = ["", "a", "ab", "abc", "abcd"];
  for (let i = 0; i < 4000; i++) out.push(randomUUID());
  for (let i = 0; i < 3000; i++) out.push(`${"é✓🙂x".repeat(i % 7)}${i}`);
  for (let i = 0; i < 5000; i++) out.push(randomBytes(i % 67));
  return out;
}

describe("JavaCompatiblePartitioner", () => {
  it("puts every keyed message where kafkajs' default partitioner puts it", () => {
    const ours = JavaCompatiblePartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    let compared = 0;
    for (const n of [1, 3, 6, 7, 12, 64]) {
      const partitionMetadata = metadata(n);
      for (const key of keys()) {
        const args = { topic: "t", partitionMetadata, message: { key, value: "v" } };
        expect(ours(args), `key ${String(key)}, ${n} partitions`).toBe(theirs(args));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(70_000);
  });

  it("keeps an explicit partition, and spreads keyless messages over partitions with a leader", () => {
    const p = JavaCompatiblePartitioner();
    expect(p({ topic: "t", partitionMetadata: metadata(6), message: { key: "k", value: "v", partition: 4 } })).toBe(4);
    const seen = new Set<number>();
    for (let i = 0; i < 60; i++)
      seen.add(p({ topic: "t", partitionMetadata: metadata(6, [1, 2]), message: { value: "v" } }));
    expect([...seen].sort()).toEqual([0, 3, 4, 5]);
  });
});
