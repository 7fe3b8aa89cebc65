import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULT_FILTER_LIMITS, validateFilter } from "@runhooks/rules";

const LIMIT = DEFAULT_FILTER_LIMITS.maxSteps.toLocaleString("en-US");
const lit = (n: number) => Array.from({ length: n }, (_, i) => i);
/** `some` nested `depth` times over the same literal array, comparing the element at the bottom. */
function nestedSome(depth: number, array: unknown): unknown {
  return depth === 0 ? { "==": [{ var: "" }, 3] } : { some: [array, nestedSome(depth - 1, array)] };
}
const doubling = (op: "merge" | "cat", initial: unknown) => ({
  "==": [
    { reduce: [{ var: "inputs.arr" }, { [op]: [{ var: "accumulator" }, { var: "accumulator" }] }, initial] },
    "nope",
  ],
});

function refusal(filter: unknown): { path: string; message: string } {
  const result = validateFilter(filter);
  if (result.ok) throw new Error(`expected ${JSON.stringify(filter).slice(0, 200)} to be refused`);
  expect(result.issues).toHaveLength(1);
  return result.issues[0]!;
}

describe("the static cost bound refuses, naming the path and the bound", () => {
  it.each<[string, unknown, string, RegExp]>([
    [
      "the reduce/merge bomb (150 bytes)",
      doubling("merge", [1]),
      "filter.==[0].reduce[1]",
      /returns the accumulator 2 times .* grows exponentially/,
    ],
    ["a reduce/cat bomb", doubling("cat", "x"), "filter.==[0].reduce[1]", /grows exponentially/],
    [
      "a doubling hidden in an if",
      {
        reduce: [
          { var: "tags" },
          { if: [{ var: "current" }, { merge: [{ var: "accumulator" }, { var: "accumulator" }] }, []] },
          [],
        ],
      },
      "filter.reduce[1]",
      /grows exponentially/,
    ],
    [
      "some 2 deep over 600-element literals",
      nestedSome(2, lit(600)),
      "filter.some[1]",
      new RegExp(`^nested iteration costs up to 1,441,201 steps per run; the limit is ${LIMIT}$`),
    ],
    [
      "some 3 deep over 600-element literals",
      nestedSome(3, lit(600)),
      "filter.some[1].some[1]",
      /^nested iteration costs up to 864,721,201 steps/,
    ],
    [
      "some 4 deep over 150-element literals",
      nestedSome(4, lit(150)),
      "filter.some[1].some[1].some[1]",
      /^nested iteration costs up to/,
    ],
    [
      "some 5 deep over 390-element literals (within the node limit)",
      nestedSome(5, lit(390)),
      "filter.some[1].some[1].some[1].some[1]",
      /^nested iteration costs up to [\d,]{18,} steps per run/,
    ],
    [
      "iteration 4 deep over run data",
      nestedSome(4, { var: "tags" }),
      "filter.some[1].some[1].some[1]",
      /^nested iteration costs up to/,
    ],
    [
      "a map that builds 360,000 elements, then coerced",
      { "==": [{ map: [lit(600), lit(600)] }, "x"] },
      "filter",
      /^costs up to 361,803 steps per run/,
    ],
    [
      "an accumulating cat inside an iteration over a literal",
      {
        some: [
          lit(300),
          {
            "==": [
              { reduce: [lit(300), { cat: [{ var: "accumulator" }, "0123456789abcdef0123456789abcdef"] }, ""] },
              "x",
            ],
          },
        ],
      },
      "filter.some[1].==[0]",
      /nested iteration/,
    ],
  ])("%s", (_name, filter, path, message) => {
    const issue = refusal(filter);
    expect(issue.path).toBe(path);
    expect(issue.message).toMatch(message);
  });

  it("reports nothing about cost while the filter is invalid otherwise (the model reads valid filters only)", () => {
    const result = validateFilter({ and: [{ nope: 1 }, nestedSome(3, lit(600))] });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((i) => i.path)).toEqual(["filter.and[0].nope"]);
  });

  it("takes the limit and the data assumption as options", () => {
    expect(validateFilter(nestedSome(1, lit(600)), { maxSteps: 1000 }).ok).toBe(false);
    expect(validateFilter(nestedSome(3, { var: "tags" }), { dataLength: 64 }).ok).toBe(false);
  });
});

describe("the static cost bound accepts ordinary filters", () => {
  it.each<[string, unknown]>([
    ["a comparison", { "==": [{ var: "status" }, "error"] }],
    ["a 600-element allow list", { in: [{ var: "metadata.user_id" }, lit(600)] }],
    ["some over 600 literals", nestedSome(1, lit(600))],
    ["some over tags", { some: [{ var: "tags" }, { "==": [{ var: "" }, "prod"] }] }],
    ["iteration 3 deep over run data", nestedSome(3, { var: "tags" })],
    [
      "a sum over tags",
      { ">": [{ reduce: [{ var: "tags" }, { "+": [{ var: "accumulator" }, { var: "current" }] }, 0] }, 3] },
    ],
    [
      "a string built by reduce (linear)",
      { in: ["prod", { reduce: [{ var: "tags" }, { cat: [{ var: "accumulator" }, { var: "current" }] }, ""] }] },
    ],
    [
      "a list built by reduce (linear)",
      { reduce: [{ var: "tags" }, { merge: [{ var: "accumulator" }, [{ var: "current" }]] }, []] },
    ],
    ["a max by reduce", { reduce: [{ var: "tags" }, { max: [{ var: "accumulator" }, { var: "current" }] }] }],
  ])("%s", (_name, filter) => {
    const result = validateFilter(filter);
    expect(result.ok, JSON.stringify(result)).toBe(true);
  });

  it("accepts every example rule's filter", () => {
    const dir = new URL("../../../examples/rules/", import.meta.url);
    const files = readdirSync(dir).filter((name) => name.endsWith(".json"));
    expect(files.length).toBeGreaterThan(0);
    for (const name of files) {
      const rule = JSON.parse(readFileSync(new URL(name, dir), "utf8")) as { filter: unknown };
      expect(validateFilter(rule.filter).ok, name).toBe(true);
    }
  });
});
