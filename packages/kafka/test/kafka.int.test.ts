import { afterAll, beforeAll, describe, expect, it } from "vitest";
import kafkajs, { type Admin } from "kafkajs";
import { ensureTopics, topicNames, topicSpecs, waitForTopics } from "@runhooks/kafka";
import { readTopic } from "../../../test/support/read-topic.js";
import { testKafka, uniquePrefix } from "../../../test/support/stack.js";

describe("topics on the real broker", () => {
  const kafka = testKafka();
  let admin: Admin;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    await admin.disconnect();
  });

  it("creates every declared topic, then verifies them on the next start", async () => {
    const prefix = uniquePrefix("ensure");
    const specs = topicSpecs({ prefix, runsPartitions: 3 });
    const first = await ensureTopics(admin, specs);
    expect([...first.created].sort()).toEqual(specs.map((s) => s.name).sort());
    expect(first.mismatches).toEqual([]);

    const second = await ensureTopics(admin, specs);
    expect(second.created).toEqual([]);
    expect([...second.verified].sort()).toEqual(specs.map((s) => s.name).sort());
    expect(second.mismatches).toEqual([]);
  });

  it("reports an existing topic whose configuration differs from its declaration", async () => {
    const prefix = uniquePrefix("mismatch");
    const names = topicNames(prefix);
    // Someone created the rules topic by hand: two partitions, delete policy.
    await admin.createTopics({
      waitForLeaders: false,
      topics: [{ topic: names.rules, numPartitions: 2, configEntries: [{ name: "cleanup.policy", value: "delete" }] }],
    });
    await waitForTopics(admin, [names.rules]);
    const report = await ensureTopics(admin, topicSpecs({ prefix }));
    expect(report.verified).toContain(names.rules);
    expect(report.mismatches).toEqual(
      expect.arrayContaining([
        { topic: names.rules, setting: "partitions", expected: "1", actual: "2" },
        { topic: names.rules, setting: "cleanup.policy", expected: "compact", actual: "delete" },
      ]),
    );
  });

  it("produces to and consumes from the runs topic, stamped with the broker's time", async () => {
    const prefix = uniquePrefix("roundtrip");
    const names = topicNames(prefix);
    await ensureTopics(admin, topicSpecs({ prefix, runsPartitions: 3 }));

    const producer = kafka.producer();
    await producer.connect();
    const producerClock = Date.parse("2020-01-01T00:00:00Z");
    const before = Date.now();
    const traces = ["trace-a", "trace-b", "trace-c", "trace-a"];
    await producer.send({
      topic: names.runs,
      acks: -1,
      messages: traces.map((key, i) => ({ key, value: JSON.stringify({ i }), timestamp: String(producerClock) })),
    });
    await producer.disconnect();

    const seen = (await readTopic(kafka, names.runs, traces.length)).map(({ partition, message }) => ({
      key: message.key!.toString(),
      i: (JSON.parse(message.value!.toString()) as { i: number }).i,
      partition,
      timestamp: Number(message.timestamp),
    }));
    expect(seen.map((m) => m.i).sort()).toEqual([0, 1, 2, 3]);
    // Same key, same partition: all runs of a trace are folded by one evaluator.
    const partitionsOfA = new Set(seen.filter((m) => m.key === "trace-a").map((m) => m.partition));
    expect(partitionsOfA.size).toBe(1);
    // LogAppendTime: the producer's 2020 clock is overwritten with the broker's.
    for (const m of seen) expect(m.timestamp).toBeGreaterThanOrEqual(before - 1000);
  });

  it("publishes Snappy batches the broker validates (CRC32C and records) and reads them back byte for byte", async () => {
    const prefix = uniquePrefix("snappy");
    const names = topicNames(prefix);
    await ensureTopics(admin, topicSpecs({ prefix, runsPartitions: 1 }));
    const values = Array.from({ length: 40 }, (_, i) =>
      Buffer.from(JSON.stringify({ i, runs: "é run ".repeat(1 + i * 200) })),
    );
    const producer = kafka.producer();
    await producer.connect();
    // Two batches: the broker decompresses each to check it, and refuses one whose checksum is wrong.
    await producer.send({
      topic: names.windows,
      acks: -1,
      compression: kafkajs.CompressionTypes.Snappy,
      messages: values.slice(0, 20).map((value) => ({ key: "k", value, partition: 0 })),
    });
    await producer.send({
      topic: names.windows,
      acks: -1,
      compression: kafkajs.CompressionTypes.Snappy,
      messages: values.slice(20).map((value) => ({ key: "k", value, partition: 0 })),
    });
    await producer.disconnect();
    const read = (await readTopic(testKafka("snappy-reader"), names.windows, values.length)).sort(
      (a, b) => Number(a.message.offset) - Number(b.message.offset),
    );
    expect(read.map((r) => r.message.value!.toString())).toEqual(values.map((v) => v.toString()));
  });
});
