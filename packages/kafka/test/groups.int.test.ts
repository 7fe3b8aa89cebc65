import { afterAll, beforeAll, describe, expect, it } from "vitest";
import kafkajs, { type Admin, type Consumer, type ConsumerConfig } from "kafkajs";
import {
  SUBSCRIPTION_ASSIGNER,
  groupConsumer,
  resolveGroupId,
  waitForTopics,
  watchUnsubscribedTopics,
} from "@runhooks/kafka";
import { testKafka, uniquePrefix } from "../../../test/support/stack.js";

const { PartitionAssigners } = kafkajs;

type Assignment = Record<string, number[]>;

/** A group member that keeps what each of its joins was assigned, and the topics of what it read. */
interface Member {
  readonly consumer: Consumer;
  readonly joins: { assignment: Assignment; protocol: string }[];
  readonly read: string[];
  /** Resolves once the member has joined more than `after` times. */
  joined(after: number): Promise<void>;
}

describe("consumer groups on the real broker", () => {
  const kafka = testKafka("runhooks-groups-test");
  let admin: Admin;
  const started: Consumer[] = [];

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    await Promise.allSettled(started.map((c) => c.disconnect()));
    await admin.disconnect();
  });

  async function topics(prefix: string, partitions: Record<string, number>): Promise<void> {
    await admin.createTopics({
      waitForLeaders: true,
      topics: Object.entries(partitions).map(([t, n]) => ({ topic: `${prefix}.${t}`, numPartitions: n })),
    });
    await waitForTopics(
      admin,
      Object.keys(partitions).map((t) => `${prefix}.${t}`),
    );
  }

  async function member(consumer: Consumer, topic: string): Promise<Member> {
    started.push(consumer);
    const joins: Member["joins"] = [];
    const waiters: (() => void)[] = [];
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      joins.push({ assignment: e.payload.memberAssignment, protocol: e.payload.groupProtocol });
      for (const w of waiters.splice(0)) w();
    });
    const read: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: ({ topic: t }) => Promise.resolve(void read.push(t)) });
    return {
      consumer,
      joins,
      read,
      joined: (after) =>
        new Promise<void>((resolve) => {
          const check = () => (joins.length > after ? resolve() : waiters.push(check));
          check();
        }),
    };
  }

  const settings = (groupId: string): Omit<ConsumerConfig, "partitionAssigners"> => ({
    groupId,
    sessionTimeout: 10_000,
    heartbeatInterval: 300,
    maxWaitTimeInMs: 100,
  });

  /** Two members of one group on different topics: the first alone, then the second, and the first's rejoin. */
  async function twoMembers(make: (groupId: string) => Consumer, prefix: string): Promise<[Member, Member]> {
    const group = `${prefix}-shared`;
    const first = await member(make(group), `${prefix}.green`);
    await first.joined(0);
    const before = first.joins.length;
    const second = await member(make(group), `${prefix}.blue`);
    await Promise.all([second.joined(0), first.joined(before)]);
    return [first, second];
  }

  it("gives each member of one group only the partitions of the topic it subscribed to", async () => {
    const prefix = uniquePrefix("groups");
    await topics(prefix, { green: 3, blue: 2 });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: `${prefix}.green`,
      messages: [0, 1, 2].map((partition) => ({ partition, value: "g" })),
    });
    await producer.send({ topic: `${prefix}.blue`, messages: [0, 1].map((partition) => ({ partition, value: "b" })) });
    await producer.disconnect();

    const [green, blue] = await twoMembers((groupId) => groupConsumer(kafka, settings(groupId)), prefix);
    expect(green.joins.at(-1)).toEqual({
      assignment: { [`${prefix}.green`]: [0, 1, 2] },
      protocol: SUBSCRIPTION_ASSIGNER,
    });
    expect(blue.joins.at(-1)).toEqual({ assignment: { [`${prefix}.blue`]: [0, 1] }, protocol: SUBSCRIPTION_ASSIGNER });

    // And each reads its own topic's messages, every one of them.
    await expect.poll(() => green.read.length, { timeout: 20_000, interval: 50 }).toBe(3);
    await expect.poll(() => blue.read.length, { timeout: 20_000, interval: 50 }).toBe(2);
    expect(new Set(green.read)).toEqual(new Set([`${prefix}.green`]));
    expect(new Set(blue.read)).toEqual(new Set([`${prefix}.blue`]));
  });

  it("kafkajs' round-robin alone leaves one of the two topics unassigned (what the assigner is for)", async () => {
    const prefix = uniquePrefix("groups-rr");
    await topics(prefix, { green: 3, blue: 2 });
    const [green, blue] = await twoMembers(
      (groupId) => kafka.consumer({ ...settings(groupId), partitionAssigners: [PartitionAssigners.roundRobin] }),
      prefix,
    );
    const assigned = new Set([
      ...Object.keys(green.joins.at(-1)!.assignment),
      ...Object.keys(blue.joins.at(-1)!.assignment),
    ]);
    expect(assigned.size).toBe(1);
  });

  it("logs an error naming the group, the topics and the variable when handed another topic", async () => {
    const prefix = uniquePrefix("groups-unsub");
    await topics(prefix, { green: 3, blue: 2 });
    const group = `${prefix}-shared`;
    // A leader offering only round-robin (another client, or an older one) deals its own topic to all.
    const leader = await member(
      kafka.consumer({ ...settings(group), partitionAssigners: [PartitionAssigners.roundRobin] }),
      `${prefix}.green`,
    );
    await leader.joined(0);
    const ours = groupConsumer(kafka, settings(group));
    const logged = new Promise<{ message: string; fields: Record<string, unknown> }>((resolve) =>
      watchUnsubscribedTopics(ours, "RUNHOOKS_EVALUATOR_GROUP", (level, message, fields) => {
        if (level === "error") resolve({ message, fields });
      }),
    );
    await member(ours, `${prefix}.blue`);
    const { message, fields } = await logged;
    expect(message).toContain(`consumer group ${group}`);
    expect(message).toContain(`${prefix}.green`);
    expect(message).toContain("RUNHOOKS_EVALUATOR_GROUP");
    expect(fields).toMatchObject({ groupId: group, topics: [`${prefix}.green`], subscribed: [`${prefix}.blue`] });
  });
});

describe("the group a service joins when its variable is unset", () => {
  const kafka = testKafka("runhooks-groups-test");
  let admin: Admin;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    await admin.disconnect();
  });

  async function fresh(label: string) {
    const prefix = uniquePrefix(label);
    const topic = `${prefix}.runs`;
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }] });
    await waitForTopics(admin, [topic]);
    const s = {
      variable: "RUNHOOKS_EVALUATOR_GROUP",
      configured: undefined,
      derived: `${prefix}-evaluator`,
      // A legacy group of the test's own: the real runhooks-evaluator is never touched.
      legacy: `${prefix}-legacy-evaluator`,
      topic,
    };
    const commit = (groupId: string) =>
      admin.setOffsets({ groupId, topic, partitions: [{ partition: 1, offset: "5" }] });
    return { s, commit };
  }

  it("stays in the legacy group when only it holds checkpoints of the topic", async () => {
    const { s, commit } = await fresh("legacy-only");
    await commit(s.legacy);
    const choice = await resolveGroupId(admin, s);
    expect(choice).toMatchObject({ kind: "legacy", groupId: s.legacy, derived: s.derived });
  });

  it("joins the prefix's group when it holds checkpoints, or when neither does", async () => {
    const neither = await fresh("legacy-neither");
    expect(await resolveGroupId(admin, neither.s)).toEqual({ kind: "derived", groupId: neither.s.derived });

    const both = await fresh("legacy-both");
    await both.commit(both.s.legacy);
    await both.commit(both.s.derived);
    expect(await resolveGroupId(admin, both.s)).toEqual({ kind: "derived", groupId: both.s.derived });
  });
});
