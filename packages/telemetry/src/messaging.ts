import type { Attributes } from "@opentelemetry/api";

/**
 * Attribute names of the OpenTelemetry messaging conventions (Kafka) and runhooks' own. Kept here as
 * plain strings: the conventions' package exports messaging names only from its unstable entry point.
 */
export const ATTR = {
  messagingSystem: "messaging.system",
  messagingOperationType: "messaging.operation.type",
  messagingOperationName: "messaging.operation.name",
  messagingDestination: "messaging.destination.name",
  messagingPartition: "messaging.destination.partition.id",
  messagingConsumerGroup: "messaging.consumer.group.name",
  messagingBatchCount: "messaging.batch.message_count",
  kafkaKey: "messaging.kafka.message.key",
  kafkaOffset: "messaging.kafka.offset",
  ruleId: "runhooks.rule_id",
  ruleVersion: "runhooks.rule_version",
  ruleIds: "runhooks.rule_ids",
  runId: "runhooks.run_id",
  windowId: "runhooks.window_id",
  windowRunCount: "runhooks.window.run_count",
  windowCloseReason: "runhooks.window.close_reason",
  deliveryId: "runhooks.delivery_id",
  webhookId: "runhooks.webhook_id",
  attempt: "runhooks.attempt",
  outcome: "runhooks.outcome",
  linksDropped: "runhooks.links_dropped",
} as const;

export interface MessageCoordinates {
  readonly operation: "send" | "process" | "receive";
  readonly topic: string;
  readonly key?: string | null;
  readonly partition?: number;
  readonly offset?: string | number;
  readonly group?: string;
}

/** The messaging attributes of a span about one Kafka message. Keys are ids (run trace id, rule id): never secrets. */
export function messageAttributes(m: MessageCoordinates): Attributes {
  const a: Attributes = {
    [ATTR.messagingSystem]: "kafka",
    [ATTR.messagingOperationType]: m.operation,
    [ATTR.messagingOperationName]: m.operation === "send" ? "publish" : m.operation,
    [ATTR.messagingDestination]: m.topic,
  };
  if (m.key !== undefined && m.key !== null) a[ATTR.kafkaKey] = m.key;
  if (m.partition !== undefined) a[ATTR.messagingPartition] = String(m.partition);
  if (m.offset !== undefined) a[ATTR.kafkaOffset] = Number(m.offset);
  if (m.group !== undefined) a[ATTR.messagingConsumerGroup] = m.group;
  return a;
}

/** Span name of the messaging conventions: `publish runhooks.runs`, `process runhooks.runs`. */
export function messagingSpanName(operation: "publish" | "process" | "receive", topic: string): string {
  return `${operation} ${topic}`;
}
