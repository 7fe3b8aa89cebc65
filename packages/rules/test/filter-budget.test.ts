import { describe, expect, it } from "vitest";
import { DEFAULT_FILTER_STEPS, compileFilter } from "@runhooks/rules";
import { valid } from "./filter/oracle.js";

/** The reduce/merge bomb: the accumulator is merged with itself, so it doubles per element. */
const BOMB = {
  "==": [{ reduce: [{ var: "inputs.arr" }, { merge: [{ var: "accumulator" }, { var: "accumulator" }] }, [1]] }, "nope"],
};
const facts = (n: number) => ({ inputs: { arr: Array.from({ length: n }, (_, i) => i) } });

describe("the per-evaluation budget", () => {
  it("stops the reduce/merge bomb over 26 elements with the verdict error, within the budget", () => {
    // Compiled without validation's static bound: the budget alone must hold (a filter stored earlier).
    const filter = compileFilter(BOMB as never);
    expect(filter(facts(26))).toBe("error");
    // Aborted before the merge that would pass the budget: at most one merge's worth over it.
    expect(filter.lastSteps).toBeGreaterThan(DEFAULT_FILTER_STEPS);
    expect(filter.lastSteps).toBeLessThan(2 * DEFAULT_FILTER_STEPS);
  });

  it("lets the same filter answer where it fits, and resets per evaluation", () => {
    const filter = compileFilter(BOMB as never);
    expect(filter(facts(26))).toBe("error");
    expect(filter(facts(4))).toBe(false);
    expect(filter.lastSteps).toBeLessThan(100);
    expect(filter(facts(26))).toBe("error");
  });

  it("charges ordinary filters a handful of steps", () => {
    const filter = compileFilter(
      valid({ and: [{ "==": [{ var: "status" }, "error"] }, { in: ["prod", { var: "tags" }] }] }),
    );
    expect(filter({ status: "error", tags: ["beta", "prod"] })).toBe(true);
    expect(filter.lastSteps).toBeLessThan(20);
  });
});
