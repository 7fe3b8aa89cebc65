import type { Consumer, ConsumerConfig, Kafka } from "kafkajs";
import { groupAssigners } from "./subscription-assigner.js";

/** A consumer's settings but its assigners, which are always groupAssigners(). */
export type GroupConsumerConfig = Omit<ConsumerConfig, "partitionAssigners">;

/**
 * The only place runhooks makes a kafkajs consumer (a lint rule holds services, packages, the CLI and
 * infra to it), so that every group, even one thought private to a single topic, assigns partitions by
 * each member's own subscription (subscription-assigner.ts).
 */
export function groupConsumer(kafka: Kafka, config: GroupConsumerConfig): Consumer {
  // Topics are created by an admin (`infra up`): a metadata request never creates one, even where the
  // broker would (auto.create.topics.enable), nor recreates a topic deleted under a running consumer.
  return kafka.consumer({ allowAutoTopicCreation: false, ...config, partitionAssigners: groupAssigners() });
}
