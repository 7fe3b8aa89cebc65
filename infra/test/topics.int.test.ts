import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InfraError, prepareTopics } from "@runhooks/infra";
import { topicNames } from "@runhooks/kafka";
import type { Admin } from "kafkajs";
import { testKafka, uniquePrefix } from "../../test/support/stack.js";

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
});
