import kafkajs, { type PartitionAssigner } from "kafkajs";
import { assignBySubscription, type MemberTopics } from "./assign-by-subscription.js";
import { decodePartitionReport, encodePartitionReport, type PartitionReport } from "./partition-report.js";

const { AssignerProtocol, PartitionAssigners } = kafkajs;

/** The protocol name the subscription-aware assigner offers in a group's JoinGroup. */
export const SUBSCRIPTION_ASSIGNER = "RunhooksSubscriptionAssigner";

/** The partition ids of `topic` in a cluster's metadata; none when it holds no metadata yet. */
function knownPartitions(cluster: Parameters<PartitionAssigner>[0]["cluster"], topic: string): number[] {
  try {
    return cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId);
  } catch {
    return [];
  }
}

/**
 * kafkajs' adapter of assignBySubscription. kafkajs' RoundRobinAssigner deals the leader's own topics
 * over every member, whatever each subscribed to: in a group whose members read different topics, one
 * member is handed another's partitions and its own topic goes unread. This reads each member's
 * subscription from its JoinGroup metadata instead, and the partitions of its topics from the report
 * each member adds (its userData), so the leader never adds another member's topics to its own
 * metadata: later refreshes would keep asking for them, a topic deleted or no longer allowed among them.
 */
export const SubscriptionAssigner: PartitionAssigner = ({ cluster, groupId, logger }) => ({
  name: SUBSCRIPTION_ASSIGNER,
  version: 0,
  assign({ members }) {
    const decoded: MemberTopics[] = members.map((m) => {
      const metadata = AssignerProtocol.MemberMetadata.decode(m.memberMetadata);
      return {
        memberId: m.memberId,
        topics: metadata?.topics ?? [],
        partitions: decodePartitionReport(metadata?.userData),
      };
    });
    const topics = [...new Set(decoded.flatMap((m) => m.topics))];
    const leaderKnows = new Map(topics.map((t) => [t, knownPartitions(cluster, t)] as const));
    const assigned = assignBySubscription(decoded, leaderKnows);
    const dealt = new Set(assigned.flatMap((a) => Object.keys(a.assignment)));
    const unassigned = topics.filter((t) => !dealt.has(t));
    if (unassigned.length > 0) {
      // Subscribed by members that reported no partitions of it, and unknown to the leader.
      logger.warn("no partitions known of topics the group's members subscribe to: assigned to nobody", {
        groupId,
        topics: unassigned,
      });
    }
    return Promise.resolve(
      assigned.map(({ memberId, assignment }) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 0,
          assignment,
          userData: Buffer.alloc(0),
        }),
      })),
    );
  },
  protocol({ topics }) {
    const report: PartitionReport = Object.fromEntries(topics.map((t) => [t, knownPartitions(cluster, t)]));
    return {
      name: SUBSCRIPTION_ASSIGNER,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: encodePartitionReport(report) }),
    };
  },
});

/**
 * The assigners of every runhooks group consumer, in order of preference. The group coordinator
 * chooses a protocol all members support, preferring members' first choices: a group whose members all
 * run this takes the subscription-aware one; while members that offer only RoundRobinAssigner remain
 * (a rolling upgrade), the group still forms, on round-robin.
 */
export function groupAssigners(): PartitionAssigner[] {
  return [SubscriptionAssigner, PartitionAssigners.roundRobin];
}
