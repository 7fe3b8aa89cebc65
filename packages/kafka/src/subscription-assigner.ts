import kafkajs, { type PartitionAssigner } from "kafkajs";
import { assignBySubscription } from "./assign-by-subscription.js";

const { AssignerProtocol, PartitionAssigners } = kafkajs;

/** The protocol name the subscription-aware assigner offers in a group's JoinGroup. */
export const SUBSCRIPTION_ASSIGNER = "RunhooksSubscriptionAssigner";

/**
 * kafkajs' adapter of assignBySubscription. kafkajs' RoundRobinAssigner deals the leader's own topics
 * over every member, whatever each subscribed to: in a group whose members read different topics, one
 * member is handed another's partitions and its own topic goes unread. This reads each member's
 * subscription from its JoinGroup metadata instead. The leader learns the partitions of topics only
 * other members read by adding them to its metadata.
 */
export const SubscriptionAssigner: PartitionAssigner = ({ cluster, groupId, logger }) => ({
  name: SUBSCRIPTION_ASSIGNER,
  version: 0,
  async assign({ members }) {
    const subscriptions = members.map((m) => ({
      memberId: m.memberId,
      topics: AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.topics ?? [],
    }));
    const topics = [...new Set(subscriptions.flatMap((s) => s.topics))];
    try {
      await cluster.addMultipleTargetTopics(topics);
    } catch (error) {
      // A topic the leader may not describe (another deployment's, under its own ACLs): kafkajs keeps
      // the metadata it had, and what it does not know of is assigned to nobody, not the group failed.
      logger.warn("could not learn the partitions of every topic the group's members subscribe to", {
        groupId,
        topics,
        error: String(error),
      });
    }
    const partitions = new Map(
      topics.map((t) => [t, cluster.findTopicPartitionMetadata(t).map((p) => p.partitionId)] as const),
    );
    return assignBySubscription(subscriptions, partitions).map(({ memberId, assignment }) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment, userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }) {
    return {
      name: SUBSCRIPTION_ASSIGNER,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
    };
  },
});

/**
 * The assigners of every runhooks group consumer, in order of preference. The broker picks the first
 * one every member offers: a group whose members all run this picks the subscription-aware one; while
 * members that offer only RoundRobinAssigner remain (a rolling upgrade), the group still forms on it.
 */
export function groupAssigners(): PartitionAssigner[] {
  return [SubscriptionAssigner, PartitionAssigners.roundRobin];
}
