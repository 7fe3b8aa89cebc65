import { describe, expect, it } from "vitest";
import { checkpointsDecide, chooseGroupId, legacyGroup, prefixedGroup, type GroupIdSettings } from "@runhooks/kafka";

const settings = (configured: string | undefined, prefix: string): GroupIdSettings => ({
  variable: "RUNHOOKS_EVALUATOR_GROUP",
  configured,
  derived: prefixedGroup(prefix, "evaluator"),
  legacy: legacyGroup("evaluator"),
  topic: `${prefix}.runs`,
});

describe("chooseGroupId", () => {
  it.each([
    // [variable, prefix, derived has checkpoints, legacy has checkpoints, kind, group]
    ["shared", "staging", false, true, "configured", "shared"],
    ["shared", "runhooks", true, true, "configured", "shared"],
    [undefined, "runhooks", false, true, "derived", "runhooks-evaluator"],
    [undefined, "runhooks", false, false, "derived", "runhooks-evaluator"],
    [undefined, "staging", false, false, "derived", "staging-evaluator"],
    [undefined, "staging", true, false, "derived", "staging-evaluator"],
    [undefined, "staging", true, true, "derived", "staging-evaluator"],
    [undefined, "staging", false, true, "legacy", "runhooks-evaluator"],
  ] as const)(
    "variable %s, prefix %s, checkpoints derived %s legacy %s: %s %s",
    (configured, prefix, derived, legacy, kind, groupId) => {
      const choice = chooseGroupId(settings(configured, prefix), { derived, legacy });
      expect(choice).toMatchObject({ kind, groupId });
    },
  );

  it("asks for checkpoints only when the variable is unset under another prefix", () => {
    expect(checkpointsDecide(settings(undefined, "staging"))).toBe(true);
    expect(checkpointsDecide(settings(undefined, "runhooks"))).toBe(false);
    expect(checkpointsDecide(settings("shared", "staging"))).toBe(false);
  });

  it("says, when it stays in the legacy group, which variable keeps it and what sharing it means", () => {
    const choice = chooseGroupId(settings(undefined, "staging"), { derived: false, legacy: true });
    if (choice.kind !== "legacy") throw new Error(`expected the legacy group, got ${choice.kind}`);
    expect(choice.derived).toBe("staging-evaluator");
    expect(choice.warning).toContain("staging.runs");
    expect(choice.warning).toContain("Set RUNHOOKS_EVALUATOR_GROUP=runhooks-evaluator to keep it and silence this");
    expect(choice.warning).toMatch(/rebalances with this one/);
  });
});
