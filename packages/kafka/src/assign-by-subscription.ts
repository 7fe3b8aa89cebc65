/** A group member as the leader sees it: its id, the topics its own subscription names, what it knows of them. */
export interface MemberTopics {
  readonly memberId: string;
  readonly topics: readonly string[];
  /**
   * The partitions of its subscribed topics the member knows of, as it reported them in its JoinGroup
   * metadata; undefined for a member that reports none (its userData empty).
   */
  readonly partitions?: Readonly<Record<string, readonly number[]>> | undefined;
}

/** What one member is given: partitions per topic (a member given nothing has `{}`). */
export interface MemberPartitions {
  readonly memberId: string;
  readonly assignment: Record<string, number[]>;
}

/**
 * The partitions to deal of each topic some member subscribes to: the union of what its subscribers
 * reported of it and what the leader knows of it (`leaderKnows`, its own metadata, refreshed just
 * before it assigns: a member's report is as old as its join, and would miss partitions added since).
 * The leader never needs to describe another member's topic, which it may not be allowed to (another
 * deployment's, under its own ACLs). A member's report of a topic it does not subscribe to counts for
 * nothing.
 */
export function partitionsToAssign(
  members: readonly MemberTopics[],
  leaderKnows: ReadonlyMap<string, readonly number[]>,
): Map<string, number[]> {
  const union = new Map<string, Set<number>>();
  for (const m of members) {
    for (const topic of m.topics) {
      const reported = m.partitions !== undefined && Object.hasOwn(m.partitions, topic) ? m.partitions[topic] : [];
      const set = union.get(topic) ?? new Set<number>(leaderKnows.get(topic));
      for (const p of reported ?? []) set.add(p);
      union.set(topic, set);
    }
  }
  return new Map([...union].map(([topic, set]) => [topic, [...set].sort((a, b) => a - b)]));
}

/**
 * Deals each topic's partitions (partitionsToAssign) round-robin among the members subscribed to it,
 * and only them: a member is never given a topic it did not subscribe to, and a topic nobody
 * subscribes to goes to nobody. Deterministic whatever order the members and partitions come in:
 * members by id, topics by name, partitions ascending. One cursor runs over the members across every
 * topic (as Kafka's own round-robin assignor), so members sharing several topics are loaded evenly,
 * and when every member subscribes to every topic the result is kafkajs' RoundRobinAssigner's.
 */
export function assignBySubscription(
  members: readonly MemberTopics[],
  leaderKnows: ReadonlyMap<string, readonly number[]>,
): MemberPartitions[] {
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const subscribed = sorted.map((m) => new Set(m.topics));
  // Without a prototype: a topic may be named like an Object property ("constructor").
  const out = sorted.map((m): MemberPartitions => ({
    memberId: m.memberId,
    assignment: Object.create(null) as Record<string, number[]>,
  }));
  const partitions = partitionsToAssign(sorted, leaderKnows);
  let cursor = 0;
  for (const topic of [...partitions.keys()].sort()) {
    for (const partition of partitions.get(topic)!) {
      // Some member is subscribed (partitionsToAssign names only such topics): the cursor finds it within one turn.
      while (!subscribed[cursor % sorted.length]!.has(topic)) cursor++;
      const assignment = out[cursor % sorted.length]!.assignment;
      (assignment[topic] ??= []).push(partition);
      cursor++;
    }
  }
  return out;
}
