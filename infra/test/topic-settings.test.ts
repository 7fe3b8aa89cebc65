import { describe, expect, it } from "vitest";
import { planSettings } from "@runhooks/infra";

const setting = (name: string, actual: string, expected: string) => ({
  topic: "rh.windows.dlq",
  setting: name,
  actual,
  expected,
});

describe("which settings infra sets on an existing topic", () => {
  it.each([
    // [why, mismatch, applied]
    ["max.message.bytes unset: set", setting("max.message.bytes", "(unset)", "1414504"), true],
    ["max.message.bytes below: raised", setting("max.message.bytes", "1048588", "1414504"), true],
    ["max.message.bytes above: kept (the operator's)", setting("max.message.bytes", "8388608", "1414504"), false],
    ["another setting: a warning", setting("cleanup.policy", "compact", "delete"), false],
    ["partitions: a warning", setting("partitions", "3", "6"), false],
  ])("%s", (_why, mismatch, applied) => {
    const plan = planSettings([mismatch]);
    expect(plan.apply).toEqual(applied ? [mismatch] : []);
    expect(plan.warnings).toEqual(applied ? [] : [mismatch]);
  });
});
