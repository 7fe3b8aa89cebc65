/** A group member as the leader sees it: its id and the topics its own subscription names. */
export interface MemberTopics {
  readonly memberId: string;
  readonly topics: readonly string[];
}

/** What one member is given: partitions per topic (a member given nothing has `{}`). */
export interface MemberPartitions {
  readonly memberId: string;
  readonly assignment: Record<string, number[]>;
}

/**
 * Deals each topic's partitions round-robin among the members subscribed to it, and only them: a
 * member is never given a topic it did not subscribe to, and a topic nobody subscribes to goes to
 * nobody. Deterministic whatever order the members and partitions come in: members by id, topics by
 * name, partitions ascending. One cursor runs over the members across every topic (as Kafka's own
 * round-robin assignor), so members sharing several topics are loaded evenly, and when every member
 * subscribes to every topic the result is kafkajs' RoundRobinAssigner's.
 */
export function assignBySubscription(
  members: readonly MemberTopics[],
  partitions: ReadonlyMap<string, readonly number[]>,
): MemberPartitions[] {
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const subscribed = sorted.map((m) => new Set(m.topics));
  const out = sorted.map((m): MemberPartitions => ({ memberId: m.memberId, assignment: {} }));
  const topics = [...partitions.keys()].sort();
  let cursor = 0;
  for (const topic of topics) {
    if (!subscribed.some((s) => s.has(topic))) continue;
    for (const partition of [...(partitions.get(topic) ?? [])].sort((a, b) => a - b)) {
      // Some member is subscribed: the cursor finds it within one turn.
      while (!subscribed[cursor % sorted.length]!.has(topic)) cursor++;
      const assignment = out[cursor % sorted.length]!.assignment;
      (assignment[topic] ??= []).push(partition);
      cursor++;
    }
  }
  return out;
}
