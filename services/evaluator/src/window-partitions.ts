import type { Admin, PartitionMetadata } from "kafkajs";
import { JavaCompatiblePartitioner } from "@runhooks/kafka";
import type { Logger } from "@runhooks/telemetry";

/**
 * The windows topic's partitions, from its metadata: read at start and on each assignment (infra
 * refuses to add windows partitions, so the count only matters once, but reading it again costs
 * little).
 *
 * - A part goes to the partition kafkajs' default partitioner would give its rule id (murmur2, Java's
 *   rule: every part of a rule lands in one partition, where the assembler merges them). Knowing it
 *   before sending lets a flush bundle the parts of each partition (part-bundle.ts) and budget its
 *   sends per partition (`byteBudgetChunks`), so each send carries one large record batch per
 *   partition rather than many small ones: each batch costs kafkajs its own encoders, compression call
 *   and checksum, and the broker its own validation. Until the metadata is known, parts go as single
 *   part messages keyed by rule id, which kafkajs partitions the same way.
 * - Watermarks go to every partition: `count` says how many there are.
 */
export interface WindowPartitions {
  /** The partition of a rule's parts; undefined until the metadata could be read. */
  partitionOf(ruleId: string): number | undefined;
  /** The windows topic's partition count; undefined until its metadata could be read. */
  count(): number | undefined;
  /** Re-reads the metadata. */
  refresh(): Promise<void>;
}

export async function windowPartitions(admin: Admin, topic: string, log: Logger): Promise<WindowPartitions> {
  const partitioner = JavaCompatiblePartitioner();
  let metadata: PartitionMetadata[] | undefined;
  const refresh = async () => {
    try {
      const found = (await admin.fetchTopicMetadata({ topics: [topic] })).topics.find((t) => t.name === topic);
      if (found && found.partitions.length > 0) metadata = found.partitions;
    } catch (error) {
      log("warn", "could not read the windows topic's partitions; kafkajs partitions parts, watermarks wait", {
        topic,
        error: String(error),
      });
    }
  };
  await refresh();
  return {
    partitionOf(ruleId) {
      if (metadata === undefined) return undefined;
      return partitioner({ topic, partitionMetadata: metadata, message: { key: ruleId, value: null } });
    },
    count: () => metadata?.length,
    refresh,
  };
}
