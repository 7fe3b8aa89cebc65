import { describe, expect, it } from "vitest";
import { planPartitions } from "@runhooks/infra";
import { topicNames } from "@runhooks/kafka";

const names = topicNames("rh");
const partitions = (topic: string, actual: number, expected: number) => ({
  topic,
  setting: "partitions",
  actual: String(actual),
  expected: String(expected),
});
const policy = { topic: names.runs, setting: "cleanup.policy", actual: "compact", expected: "delete" };

describe("what infra does with a topic's partition count", () => {
  it.each([
    // [why, mismatches, raised, refused, warnings]
    ["nothing to do", [], [], false, 0],
    [
      "the runs topic and its dead letters asked for more: raised",
      [partitions(names.runs, 6, 12), partitions(names.runsDlq, 6, 12)],
      [`${names.runs} 6→12`, `${names.runsDlq} 6→12`],
      false,
      0,
    ],
    ["the windows topic asked for more: refused", [partitions(names.windows, 6, 12)], [], true, 0],
    [
      "the windows topic asked for more, the runs topic too: refused as a whole",
      [partitions(names.runs, 6, 12), partitions(names.windows, 6, 8)],
      [`${names.runs} 6→12`],
      true,
      0,
    ],
    [
      "a topic with more partitions than declared: Kafka cannot lower it, a warning",
      [partitions(names.runs, 12, 6), partitions(names.windows, 8, 6)],
      [],
      false,
      2,
    ],
    ["another topic asked for more: a warning", [partitions(names.attempts, 2, 6)], [], false, 1],
    ["another setting: a warning", [policy], [], false, 1],
  ])("%s", (_why, mismatches, raised, refused, warnings) => {
    const plan = planPartitions(mismatches, names);
    expect(plan.raise.map((r) => `${r.topic} ${r.from}→${r.to}`)).toEqual(raised);
    expect(plan.refusal !== undefined).toBe(refused);
    expect(plan.warnings).toHaveLength(warnings);
  });

  it("says why the windows topic is not raised, and what to do", () => {
    const { refusal } = planPartitions([partitions(names.windows, 6, 12)], names);
    expect(refusal).toMatch(/rh\.windows has 6 partitions and RUNHOOKS_WINDOWS_PARTITIONS asks for 12/);
    expect(refusal).toMatch(/rules would move to other windows partitions and a window's parts.* would be split/);
    expect(refusal).toContain("Set RUNHOOKS_WINDOWS_PARTITIONS=6 to keep the topic as it is");
    expect(refusal).toMatch(/drain it first: stop ingest, wait until delivery has delivered every window/);
  });
});
