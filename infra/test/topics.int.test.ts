import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InfraError, prepareTopics } from "@runhooks/infra";
import { WINDOWS_DLQ_MAX_MESSAGE_BYTES, topicNames, waitForTopics } from "@runhooks/kafka";
import kafkajs, { type Admin } from "kafkajs";
import { testKafka, uniquePrefix } from "../../test/support/stack.js";

// kafkajs is CommonJS and its enums are not visible as ESM named exports under Node.
const { ConfigResourceTypes } = kafkajs;

describe("topic partitions on a running system", () => {
  let admin: Admin;
  beforeAll(async () => {
    admin = testKafka("infra-topics").admin();
    await admin.connect();
  });
  afterAll(async () => {
    await admin.disconnect();
  });

  const partitionsOf = async (topic: string) =>
    (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.length;
  const env = (prefix: string, runs: number, windows: number) => ({
    RUNHOOKS_TOPIC_PREFIX: prefix,
    RUNHOOKS_RUNS_PARTITIONS: runs,
    RUNHOOKS_WINDOWS_PARTITIONS: windows,
  });

  it("raises the runs topic's partitions when RUNHOOKS_RUNS_PARTITIONS is raised", async () => {
    const prefix = uniquePrefix("raise-runs");
    const names = topicNames(prefix);
    const created = await prepareTopics(admin, env(prefix, 2, 2));
    expect(created.topicsCreated).toContain(names.runs);
    const raised = await prepareTopics(admin, env(prefix, 3, 2));
    expect(raised.topicsRaised).toEqual([`${names.runs}: 2 → 3 partitions`, `${names.runsDlq}: 2 → 3 partitions`]);
    expect(raised.topicProblems).toEqual([]);
    expect(await partitionsOf(names.runs)).toBe(3);
    expect(await partitionsOf(names.runsDlq)).toBe(3);
  });

  it("refuses to raise the windows topic's partitions, and changes nothing", async () => {
    const prefix = uniquePrefix("raise-windows");
    const names = topicNames(prefix);
    await prepareTopics(admin, env(prefix, 2, 2));
    const attempt = prepareTopics(admin, env(prefix, 3, 4));
    await expect(attempt).rejects.toBeInstanceOf(InfraError);
    await expect(attempt).rejects.toMatchObject({ code: "windows_partitions_fixed" });
    await expect(attempt).rejects.toThrow(/would be split/);
    expect(await partitionsOf(names.windows)).toBe(2);
    expect(await partitionsOf(names.runs)).toBe(2);
  });

  it("raises windows.dlq's max.message.bytes on an existing topic, keeping its other settings", async () => {
    const prefix = uniquePrefix("dlq-size");
    const names = topicNames(prefix);
    // As an installation made before the setting was declared: the topic without it, an operator's retention.
    await admin.createTopics({
      waitForLeaders: false,
      topics: [
        {
          topic: names.windowsDlq,
          numPartitions: 2,
          replicationFactor: -1,
          configEntries: [
            { name: "cleanup.policy", value: "delete" },
            { name: "retention.ms", value: "3600000" },
          ],
        },
      ],
    });
    // Known to every broker before it is prepared, so it is compared, not created again.
    await waitForTopics(admin, [names.windowsDlq]);
    const prepared = await prepareTopics(admin, env(prefix, 2, 2));
    // The broker's default (1048588) was in force.
    expect(prepared.topicsRaised).toEqual([
      `${names.windowsDlq}: max.message.bytes 1048588 → ${WINDOWS_DLQ_MAX_MESSAGE_BYTES}`,
    ]);
    expect(prepared.topicProblems).toEqual([]);
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: names.windowsDlq,
          configNames: ["max.message.bytes", "retention.ms", "cleanup.policy"],
        },
      ],
    });
    const config = new Map(described.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
    expect(Object.fromEntries(config)).toEqual({
      "max.message.bytes": String(WINDOWS_DLQ_MAX_MESSAGE_BYTES),
      "retention.ms": "3600000",
      "cleanup.policy": "delete",
    });
    // Applied: the next start finds nothing to change.
    const again = await prepareTopics(admin, env(prefix, 2, 2));
    expect(again.topicsRaised).toEqual([]);
    expect(again.topicProblems).toEqual([]);
  });
});
