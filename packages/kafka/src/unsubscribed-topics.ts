import type { Consumer } from "kafkajs";
import type { KafkaLogger } from "./client.js";

/** A member handed partitions of topics it did not subscribe to, as kafkajs reports it. */
export interface UnsubscribedAssignment {
  readonly groupId: string;
  /** The assigned topics the member does not read. */
  readonly topics: readonly string[];
  /** What the member subscribed to. */
  readonly subscribed: readonly string[];
  /** The variable naming the group (e.g. RUNHOOKS_EVALUATOR_GROUP). */
  readonly variable: string;
}

/**
 * What to tell the operator. kafkajs drops the assigned partitions of topics a member did not
 * subscribe to (with a warning of its own): nobody reads them until the groups are separated.
 */
export function unsubscribedAssignmentMessage(u: UnsubscribedAssignment): string {
  return (
    `consumer group ${u.groupId} assigned this member partitions of ${u.topics.join(", ")}, which it does not ` +
    `read (it reads ${u.subscribed.join(", ")}): they are dropped, and go unread until the groups are separated. ` +
    `Another deployment shares the group; give each a group of its own with ${u.variable} (docs/operating.md)`
  );
}

/**
 * Logs an error each time the consumer is assigned partitions of topics it did not subscribe to: the
 * sign of a group shared with another deployment whose members do not all offer the subscription-aware
 * assigner, so that the group deals by round-robin.
 */
export function watchUnsubscribedTopics(consumer: Consumer, variable: string, log: KafkaLogger): void {
  consumer.on(consumer.events.RECEIVED_UNSUBSCRIBED_TOPICS, ({ payload }) => {
    const u = { groupId: payload.groupId, topics: payload.topicsNotSubscribed, subscribed: payload.topicsSubscribed };
    log("error", unsubscribedAssignmentMessage({ ...u, variable }), { ...u, variable });
  });
}
