export { createKafka } from "./client.js";
export { acknowledgedWithin } from "./deadline.js";
export { JavaCompatiblePartitioner, murmur2 } from "./partitioner.js";
export { isTransientResponseLog } from "./transient-log.js";
export { crashVerdict } from "./crash-verdict.js";
export type { CrashVerdict } from "./crash-verdict.js";
export type { KafkaClientOptions, KafkaLogger, LogLevel } from "./client.js";
export { SASL_MECHANISMS, describeKafkaSecurity, kafkaConnectionConfig, securityProtocol } from "./security.js";
export type { KafkaSasl, KafkaSecurity, KafkaTls, SaslMechanism } from "./security.js";
export { KAFKA_SECURITY_ENV_KEYS, KafkaConfigError, kafkaSecurityFromEnv, kafkaSecurityOf } from "./security-env.js";
export type { KafkaEnvIssue, KafkaSecurityEnv, KafkaSecurityEnvKey, KafkaSecurityResult } from "./security-env.js";
export { WINDOWS_DLQ_MAX_MESSAGE_BYTES, topicNames, topicSpecs } from "./topics.js";
export type { TopicNames, TopicOptions, TopicSpec } from "./topics.js";
export { describeMismatch, ensureTopics, setTopicSettings, waitForTopics } from "./ensure-topics.js";
export type { EnsureTopicsReport, TopicMismatch } from "./ensure-topics.js";
export { useNativeCrc32C, KAFKAJS_CRC32C_MODULE } from "./native-crc32c.js";
export { useLeanEncoder, KAFKAJS_ENCODER_MODULE } from "./lean-encoder.js";
export type { LeanEncoder } from "./lean-encoder.js";
export { KAFKAJS_PRODUCE_V3_MODULE, encodeProduceBody, useLeanProduce } from "./lean-produce.js";
export type { LeanProduce, ProduceRequestArgs } from "./lean-produce.js";
export type { NativeCrc32C } from "./native-crc32c.js";
export { snappy, unsnappy, useSnappy } from "./snappy.js";
export {
  assembledBytesBound,
  joinSlices,
  keepSlices,
  slicedValue,
  slicedValuesSupported,
  snappyPieces,
  valueSlices,
} from "./sliced-value.js";
export type { RecordSetPiece, ValueSlices } from "./sliced-value.js";
export { checkLogRange, offsetsAtTime, partitionsTruncatedAt } from "./log-range.js";
export type { LogRangeCheck } from "./log-range.js";
export { assignBySubscription, partitionsToAssign } from "./assign-by-subscription.js";
export { decodePartitionReport, encodePartitionReport } from "./partition-report.js";
export type { PartitionReport } from "./partition-report.js";
export type { MemberPartitions, MemberTopics } from "./assign-by-subscription.js";
export { SUBSCRIPTION_ASSIGNER, SubscriptionAssigner, groupAssigners } from "./subscription-assigner.js";
export { groupConsumer } from "./group-consumer.js";
export type { GroupConsumerConfig } from "./group-consumer.js";
export { DEFAULT_TOPIC_PREFIX } from "./topics.js";
export { checkpointsDecide, chooseGroupId, legacyGroup, prefixedGroup } from "./group-id.js";
export type { GroupCheckpoints, GroupIdChoice, GroupIdSettings } from "./group-id.js";
export { GroupLookupError, hasCheckpoints, resolveGroupId } from "./resolve-group-id.js";
export { ForeignBatchError, foreignBatchRefusal, refuseForeignBatch } from "./batch-topic.js";
export type { BatchTopicCheck } from "./batch-topic.js";
export { unsubscribedAssignmentMessage, watchUnsubscribedTopics } from "./unsubscribed-topics.js";
export type { UnsubscribedAssignment } from "./unsubscribed-topics.js";
