import type { Admin, Message, PartitionMetadata } from "kafkajs";
import { JavaCompatiblePartitioner } from "@runhooks/kafka";
import type { Logger } from "@runhooks/telemetry";

/**
 * Gives each window message the partition kafkajs' default partitioner would give it (murmur2 of the
 * key, Java's rule: where windows land does not change), before it is sent. Knowing partitions lets a
 * flush budget its sends per partition (`byteBudgetChunks`), so each send carries one large record
 * batch per partition rather than many small ones: each batch costs kafkajs its own encoders,
 * compression call and checksum, and the broker its own validation.
 *
 * Until the topic's metadata is known (or when it cannot be read), messages keep no partition and
 * kafkajs picks one as usual.
 */
export interface WindowPartitions {
  assign(message: Message): void;
  /** Re-reads the partition count (a rebalance is a good moment: partitions may have been added). */
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
      log("warn", "could not read the windows topic's partitions; kafkajs partitions windows", { topic, error: String(error) });
    }
  };
  await refresh();
  return {
    assign(message) {
      if (metadata !== undefined) message.partition = partitioner({ topic, partitionMetadata: metadata, message });
    },
    refresh,
  };
}
