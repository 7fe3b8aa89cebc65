import kafkajs from "kafkajs";
import { describe, expect, it } from "vitest";
import { SUBSCRIPTION_ASSIGNER, assignBySubscription, groupAssigners, type MemberTopics } from "@runhooks/kafka";

const { AssignerProtocol, PartitionAssigners } = kafkajs;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("assignBySubscription", () => {
  const cases: {
    name: string;
    members: MemberTopics[];
    partitions: [string, number[]][];
    expected: Record<string, Record<string, number[]>>;
  }[] = [
    {
      name: "two members on different topics each get only their own",
      members: [
        { memberId: "b", topics: ["blue.runs"] },
        { memberId: "a", topics: ["green.runs"] },
      ],
      partitions: [
        ["green.runs", range(3)],
        ["blue.runs", range(2)],
      ],
      expected: { a: { "green.runs": [0, 1, 2] }, b: { "blue.runs": [0, 1] } },
    },
    {
      name: "members sharing a topic split it round-robin, by member id",
      members: [
        { memberId: "m2", topics: ["t"] },
        { memberId: "m1", topics: ["t"] },
      ],
      partitions: [["t", [4, 0, 2, 1, 3]]],
      expected: { m1: { t: [0, 2, 4] }, m2: { t: [1, 3] } },
    },
    {
      name: "a topic nobody subscribes to is assigned to nobody",
      members: [{ memberId: "a", topics: ["t"] }],
      partitions: [
        ["t", range(2)],
        ["orphan", range(4)],
      ],
      expected: { a: { t: [0, 1] } },
    },
    {
      name: "a member with no topics gets an empty assignment",
      members: [
        { memberId: "a", topics: ["t"] },
        { memberId: "idle", topics: [] },
      ],
      partitions: [["t", range(3)]],
      expected: { a: { t: [0, 1, 2] }, idle: {} },
    },
    {
      name: "a member subscribed to a topic without partitions (unknown to the leader) gets nothing of it",
      members: [{ memberId: "a", topics: ["gone"] }],
      partitions: [["gone", []]],
      expected: { a: {} },
    },
    {
      name: "one cursor across topics: members sharing two topics are loaded evenly",
      members: [
        { memberId: "a", topics: ["x", "y"] },
        { memberId: "b", topics: ["y", "x"] },
      ],
      partitions: [
        ["y", range(3)],
        ["x", range(3)],
      ],
      expected: { a: { x: [0, 2], y: [1] }, b: { x: [1], y: [0, 2] } },
    },
    {
      name: "mixed: a shared topic skips the member not subscribed to it",
      members: [
        { memberId: "a", topics: ["shared", "own-a"] },
        { memberId: "b", topics: ["own-b"] },
        { memberId: "c", topics: ["shared"] },
      ],
      partitions: [
        ["shared", range(4)],
        ["own-a", range(1)],
        ["own-b", range(2)],
      ],
      expected: { a: { "own-a": [0], shared: [1, 3] }, b: { "own-b": [0, 1] }, c: { shared: [0, 2] } },
    },
    { name: "no members, nothing assigned", members: [], partitions: [["t", range(2)]], expected: {} },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const result = assignBySubscription(c.members, new Map(c.partitions));
      expect(Object.fromEntries(result.map((r) => [r.memberId, r.assignment]))).toEqual(c.expected);
      // The same whatever order the members come in.
      const reversed = assignBySubscription([...c.members].reverse(), new Map([...c.partitions].reverse()));
      expect(reversed).toEqual(result);
    });
  }

  it("equals kafkajs' RoundRobinAssigner when every member subscribes to every topic", async () => {
    const topics = ["a.runs", "b.windows"];
    const counts: Record<string, number> = { "a.runs": 5, "b.windows": 3 };
    const cluster = {
      findTopicPartitionMetadata: (t: string) => range(counts[t]!).map((partitionId) => ({ partitionId })),
    };
    const memberIds = ["m-3", "m-1", "m-2"];
    const theirs = await PartitionAssigners.roundRobin({ cluster } as never).assign({
      members: memberIds.map((memberId) => ({ memberId, memberMetadata: Buffer.alloc(0) })),
      topics,
    });
    const ours = assignBySubscription(
      memberIds.map((memberId) => ({ memberId, topics })),
      new Map(topics.map((t) => [t, range(counts[t]!)])),
    );
    for (const { memberId, memberAssignment } of theirs) {
      const decoded = AssignerProtocol.MemberAssignment.decode(memberAssignment)!.assignment;
      expect(ours.find((o) => o.memberId === memberId)?.assignment).toEqual(decoded);
    }
  });
});

describe("groupAssigners", () => {
  it("offers the subscription-aware assigner first and kafkajs' round-robin second", () => {
    const names = groupAssigners().map(
      (a) => a({ cluster: {} as never, groupId: "g", logger: {} as never }).protocol({ topics: ["t"] }).name,
    );
    expect(names).toEqual([SUBSCRIPTION_ASSIGNER, "RoundRobinAssigner"]);
  });

  it("assigns by each member's JoinGroup metadata, asking the cluster for every subscribed topic", async () => {
    const [ours] = groupAssigners();
    const added: string[][] = [];
    const cluster = {
      addMultipleTargetTopics: (t: string[]) => Promise.resolve(void added.push([...t].sort())),
      findTopicPartitionMetadata: (t: string) => range(t === "a.runs" ? 2 : 3).map((partitionId) => ({ partitionId })),
    };
    const assigner = ours!({ cluster: cluster as never, groupId: "g", logger: {} as never });
    const member = (memberId: string, topics: string[]) => ({
      memberId,
      memberMetadata: assigner.protocol({ topics }).metadata,
    });
    const result = await assigner.assign({ members: [member("x", ["a.runs"]), member("y", ["b.runs"])], topics: [] });
    expect(added).toEqual([["a.runs", "b.runs"]]);
    const decoded = Object.fromEntries(
      result.map((r) => [r.memberId, AssignerProtocol.MemberAssignment.decode(r.memberAssignment)!.assignment]),
    );
    expect(decoded).toEqual({ x: { "a.runs": [0, 1] }, y: { "b.runs": [0, 1, 2] } });
  });

  it("assigns the topics it knows when the cluster cannot describe another member's topic", async () => {
    const [ours] = groupAssigners();
    const warned: string[] = [];
    const cluster = {
      addMultipleTargetTopics: () => Promise.reject(new Error("Not authorized to access topics")),
      // Only the leader's own topic is in its metadata.
      findTopicPartitionMetadata: (t: string) =>
        t === "a.runs" ? range(2).map((partitionId) => ({ partitionId })) : [],
    };
    const logger = { warn: (message: string) => void warned.push(message) };
    const assigner = ours!({ cluster: cluster as never, groupId: "g", logger: logger as never });
    const member = (memberId: string, topics: string[]) => ({
      memberId,
      memberMetadata: assigner.protocol({ topics }).metadata,
    });
    const result = await assigner.assign({ members: [member("x", ["a.runs"]), member("y", ["b.runs"])], topics: [] });
    const decoded = Object.fromEntries(
      result.map((r) => [r.memberId, AssignerProtocol.MemberAssignment.decode(r.memberAssignment)!.assignment]),
    );
    expect(decoded).toEqual({ x: { "a.runs": [0, 1] }, y: {} });
    expect(warned).toHaveLength(1);
  });
});
