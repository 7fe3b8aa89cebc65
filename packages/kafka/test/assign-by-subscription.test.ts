import kafkajs from "kafkajs";
import { describe, expect, it } from "vitest";
import {
  SUBSCRIPTION_ASSIGNER,
  assignBySubscription,
  decodePartitionReport,
  encodePartitionReport,
  groupAssigners,
  type MemberTopics,
} from "@runhooks/kafka";

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
    {
      name: "a topic's partitions come from its subscribers' reports, not the leader's metadata",
      members: [
        { memberId: "a", topics: ["green.runs"], partitions: { "green.runs": range(3) } },
        { memberId: "b", topics: ["blue.runs"], partitions: { "blue.runs": range(2) } },
      ],
      // The leader (a) knows only its own topic.
      partitions: [["green.runs", range(3)]],
      expected: { a: { "green.runs": [0, 1, 2] }, b: { "blue.runs": [0, 1] } },
    },
    {
      name: "the union of the subscribers' reports: one that knows more partitions adds them",
      members: [
        { memberId: "a", topics: ["t"], partitions: { t: [0, 1] } },
        { memberId: "b", topics: ["t"], partitions: { t: [2, 0, 1] } },
      ],
      partitions: [["t", [0, 1]]],
      expected: { a: { t: [0, 2] }, b: { t: [1] } },
    },
    {
      name: "partitions the leader's refreshed metadata knows are dealt though no report names them",
      members: [{ memberId: "a", topics: ["t"], partitions: { t: [0, 1] } }],
      partitions: [["t", range(4)]],
      expected: { a: { t: [0, 1, 2, 3] } },
    },
    {
      name: "a report that names no partitions of a topic (no metadata at join) leaves the leader's",
      members: [{ memberId: "a", topics: ["constructor"], partitions: {} }],
      partitions: [["constructor", [0, 1]]],
      expected: { a: { constructor: [0, 1] } },
    },
    {
      name: "a member that reports nothing falls back to the leader's metadata",
      members: [
        { memberId: "a", topics: ["x"], partitions: { x: [0] } },
        { memberId: "old", topics: ["y"] },
      ],
      partitions: [
        ["x", [0]],
        ["y", range(2)],
      ],
      expected: { a: { x: [0] }, old: { y: [0, 1] } },
    },
    {
      name: "a member that reports nothing, of a topic the leader does not know, gets nothing of it",
      members: [
        { memberId: "a", topics: ["x"], partitions: { x: [0] } },
        { memberId: "old", topics: ["y"] },
      ],
      partitions: [["x", [0]]],
      expected: { a: { x: [0] }, old: {} },
    },
    {
      name: "a report of a topic the member does not subscribe to counts for nothing",
      members: [
        { memberId: "a", topics: ["x"], partitions: { x: [0], y: range(3) } },
        { memberId: "b", topics: ["y"], partitions: { y: [0] } },
      ],
      partitions: [],
      expected: { a: { x: [0] }, b: { y: [0] } },
    },
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

  /** A member's assigner on a cluster whose metadata holds these topics' partition counts (and nothing else). */
  const on = (counts: Record<string, number>, logger: object = {}) => {
    const [ours] = groupAssigners();
    const cluster = {
      findTopicPartitionMetadata: (t: string) => range(counts[t] ?? 0).map((partitionId) => ({ partitionId })),
    };
    return ours!({ cluster: cluster as never, groupId: "g", logger: logger as never });
  };
  const decode = (result: { memberId: string; memberAssignment: Buffer }[]) =>
    Object.fromEntries(
      result.map((r) => [r.memberId, AssignerProtocol.MemberAssignment.decode(r.memberAssignment)!.assignment]),
    );

  it("assigns each topic the partitions its subscribers report, never describing another's topic", async () => {
    // The leader's cluster has no addMultipleTargetTopics: calling it would throw.
    const leader = on({ "a.runs": 2 });
    const members = [
      { memberId: "x", memberMetadata: leader.protocol({ topics: ["a.runs"] }).metadata },
      { memberId: "y", memberMetadata: on({ "b.runs": 3 }).protocol({ topics: ["b.runs"] }).metadata },
    ];
    const result = await leader.assign({ members, topics: [] });
    expect(decode(result)).toEqual({ x: { "a.runs": [0, 1] }, y: { "b.runs": [0, 1, 2] } });
  });

  it("falls back to the leader's metadata for a member that reports nothing, and warns of what it cannot assign", async () => {
    const warned: unknown[] = [];
    const leader = on({ "a.runs": 2, "c.runs": 1 }, { warn: (_: string, fields: unknown) => void warned.push(fields) });
    const older = (topics: string[]) =>
      AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) });
    const members = [
      { memberId: "x", memberMetadata: leader.protocol({ topics: ["a.runs"] }).metadata },
      { memberId: "y", memberMetadata: older(["c.runs"]) },
      { memberId: "z", memberMetadata: older(["b.runs"]) },
    ];
    const result = await leader.assign({ members, topics: [] });
    expect(decode(result)).toEqual({ x: { "a.runs": [0, 1] }, y: { "c.runs": [0] }, z: {} });
    expect(warned).toEqual([{ groupId: "g", topics: ["b.runs"] }]);
  });
});

describe("partition reports", () => {
  it("round-trip, compactly", () => {
    const report = { "acme.runs": [0, 1, 2], "acme.windows": [] };
    const encoded = encodePartitionReport(report);
    expect(encoded.toString()).toBe('{"acme.runs":[0,1,2],"acme.windows":[]}');
    expect(decodePartitionReport(encoded)).toEqual(report);
  });

  it.each([
    ["absent", undefined],
    ["empty", Buffer.alloc(0)],
    ["not JSON", Buffer.from("\u0000\u0001")],
    ["not an object", Buffer.from("[1,2]")],
    ["ids that are not partitions", Buffer.from('{"t":[-1]}')],
    ["a topic without a list", Buffer.from('{"t":3}')],
  ])("are none when %s", (_, userData) => {
    expect(decodePartitionReport(userData)).toBeUndefined();
  });
});
