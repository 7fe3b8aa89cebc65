export { createKafka } from "./client.js";
export { acknowledgedWithin } from "./deadline.js";
export { JavaCompatiblePartitioner, murmur2 } from "./partitioner.js";
export { isTransientResponseLog } from "./transient-log.js";
export type { KafkaClientOptions, KafkaLogger, LogLevel } from "./client.js";
export { topicNames, topicSpecs } from "./topics.js";
export type { TopicNames, TopicOptions, TopicSpec } from "./topics.js";
export { describeMismatch, ensureTopics, waitForTopics } from "./ensure-topics.js";
export type { EnsureTopicsReport, TopicMismatch } from "./ensure-topics.js";
