import { describe, expect, it } from "vitest";
import { explainFilter } from "@runhooks/rules";
import { valid } from "./filter/oracle.js";

const facts = { run_type: "llm", status: "success", latency: 3.5, tags: ["prod"], metadata: { env: "staging" } };

describe("explainFilter", () => {
  it("shows, for the DESIGN.md example, which part failed", () => {
    const filter = { and: [{ "==": [{ var: "run_type" }, "llm"] }, { "==": [{ var: "status" }, "error"] }] };
    expect(explainFilter(valid(filter), facts)).toEqual({
      matched: false,
      root: {
        path: "filter",
        expression: filter,
        result: false,
        parts: [
          { path: "filter.and[0]", expression: filter.and[0], result: true, vars: { run_type: "llm" } },
          { path: "filter.and[1]", expression: filter.and[1], result: false, vars: { status: "success" } },
        ],
      },
      // Each part is evaluated on its own: the `and` (5 steps), then each comparison (2 each).
      steps: 9,
    });
  });

  it("breaks down nested and/or/! and shows every failing operand, not only the first", () => {
    const filter = {
      or: [
        { and: [{ ">": [{ var: "latency" }, 5] }, { "==": [{ var: "metadata.env" }, "prod"] }] },
        { "!": { in: ["prod", { var: "tags" }] } },
      ],
    };
    const { matched, root } = explainFilter(valid(filter), facts);
    expect(matched).toBe(false);
    const summary = (part: typeof root): unknown => ({
      [part.path]: part.result,
      ...(part.parts ? { parts: part.parts.map(summary) } : {}),
    });
    expect(summary(root)).toEqual({
      filter: false,
      parts: [
        { "filter.or[0]": false, parts: [{ "filter.or[0].and[0]": false }, { "filter.or[0].and[1]": false }] },
        { "filter.or[1]": false, parts: [{ "filter.or[1].!": true }] },
      ],
    });
    expect(root.parts?.[0]?.parts?.[1]?.vars).toEqual({ "metadata.env": "staging" });
  });

  it("a leaf lists the run fields it reads, not per-element vars", () => {
    const filter = { some: [{ var: "tags" }, { "==": [{ var: "" }, "prod"] }] };
    const { matched, root } = explainFilter(valid(filter), facts);
    expect(matched).toBe(true);
    expect(root).toEqual({ path: "filter", expression: filter, result: true, vars: { tags: ["prod"] } });
  });

  it("a leaf without vars and a bare literal", () => {
    expect(explainFilter(valid(true), facts)).toEqual({
      matched: true,
      root: { path: "filter", expression: true, result: true },
      steps: 0,
    });
  });

  it("reports a part that throws in json-logic-js as false, with the error", () => {
    const data = { o: { indexOf: 1 } };
    // `or` stops at the first truthy operand, so json-logic-js never reaches the throwing one.
    const shortCircuited = explainFilter(valid({ or: [{ "==": [1, 1] }, { in: ["x", { var: "o" }] }] }), data);
    expect(shortCircuited.matched).toBe(true);
    expect(shortCircuited.root.parts?.[1]).toMatchObject({
      path: "filter.or[1]",
      result: false,
      error: expect.stringContaining("indexOf") as unknown,
    });
    // Reached first, it makes the whole filter throw: no match, even though the other operand holds.
    const reached = explainFilter(valid({ or: [{ in: ["x", { var: "o" }] }, { "==": [1, 1] }] }), data);
    expect(reached.matched).toBe(false);
    expect(reached.root.error).toContain("indexOf");
    expect(reached.root.parts?.map((p) => p.result)).toEqual([false, true]);
  });

  it("agrees with compileFilter on the top-level result", () => {
    const filter = { and: [{ var: "tags" }, { "<": [1, { var: "latency" }, 10] }] };
    expect(explainFilter(valid(filter), facts).matched).toBe(true);
    expect(explainFilter(valid(filter), { ...facts, tags: [] }).matched).toBe(false);
  });

  it("evaluates each part under the filter's budget, and all parts under a total", () => {
    const tags = Array.from({ length: 5000 }, (_, i) => `t${i}`);
    const heavy = { in: ["zzz", { var: "tags" }] };
    const filter = valid({ or: [heavy, heavy, heavy, { "==": [1, 1] }] });
    // Each search takes ~5,000 steps: over a part's budget of 1,000, an error naming it.
    const tight = explainFilter(filter, { tags }, { maxSteps: 1000, maxTotalSteps: 10_000 });
    expect(tight.root.parts?.[0]?.error).toContain("1,000 steps");
    expect(tight.root.parts?.[3]?.result).toBe(true);
    // Within each part's budget, but not the explanation's total: the later parts are not evaluated.
    // The whole `or` takes ~15,000 steps, the first search ~5,000 more; the rest finds none left.
    const total = explainFilter(filter, { tags }, { maxSteps: 20_000, maxTotalSteps: 25_000 });
    expect(total.root.error).toBeUndefined();
    expect(total.root.parts?.map((p) => p.error === undefined)).toEqual([true, false, false, false]);
    expect(total.root.parts?.[1]?.error).toContain("took all of its 25,000 steps");
    expect(total.steps).toBe(25_000);
  });
});
