import { describe, expect, it } from "vitest";
import { DEFAULT_FILTER_LIMITS, validateFilter } from "@runhooks/rules";

function issuesOf(filter: unknown, limits = {}) {
  const result = validateFilter(filter, limits);
  if (result.ok) throw new Error(`expected ${JSON.stringify(filter)} to be refused`);
  return result.issues;
}

/** Nests `{"!": …}` n times around `inner`. */
function nested(n: number, inner: unknown = true): unknown {
  let expr = inner;
  for (let i = 0; i < n; i++) expr = { "!": [expr] };
  return expr;
}

describe("validateFilter refuses, naming the offending path", () => {
  it.each<[string, unknown, string, string]>([
    [
      "unknown operator",
      { and: [{ "==": [1, 1] }, { regex: ["a", "b"] }] },
      "filter.and[1].regex",
      'unknown operator "regex"',
    ],
    ["log (side effects)", { or: [{ log: "x" }] }, "filter.or[0].log", "not allowed"],
    ["method", { method: [{ var: "name" }, "toUpperCase"] }, "filter.method", "not allowed"],
    ["a dotted operator", { "var.length": ["x"] }, "filter.var.length", "unknown operator"],
    [
      "an object with two keys",
      { and: [{ "==": [1, 1], "!=": [1, 2] }] },
      "filter.and[0]",
      "exactly one operator key (found 2: ==, !=)",
    ],
    ["an empty object", { "!": [{}] }, "filter.![0]", "found none"],
    ["an empty object at the top", {}, "filter", "found none"],
    [
      "an object used as a literal",
      { "==": [{ var: "metadata" }, { env: "prod", region: "eu" }] },
      "filter.==[1]",
      "exactly one operator key",
    ],
    [
      "__proto__ in a var path",
      { and: [{ "==": [1, 1] }, { "==": [{ var: "__proto__.polluted" }, 1] }] },
      "filter.and[1].==[0].var",
      '"__proto__"',
    ],
    [
      "constructor in a dotted path",
      { "==": [{ var: "metadata.constructor.name" }, "Object"] },
      "filter.==[0].var",
      '"constructor"',
    ],
    ["prototype in the array form", { "!": { var: ["tags.prototype", 1] } }, "filter.!.var[0]", '"prototype"'],
    ["a forbidden path nested in a literal array path", { var: [["__proto__"]] }, "filter.var[0][0]", '"__proto__"'],
    ["a forbidden missing key", { missing: ["name", "constructor"] }, "filter.missing[1]", '"constructor"'],
    [
      "a forbidden key in missing's key list",
      { missing: [["a", "b.__proto__"]] },
      "filter.missing[0][1]",
      '"__proto__"',
    ],
    [
      "a forbidden key in missing_some",
      { missing_some: [1, ["a", "prototype"]] },
      "filter.missing_some[1][1]",
      '"prototype"',
    ],
    [
      "a forbidden var inside per-element logic",
      { some: [{ var: "tags" }, { var: "constructor" }] },
      "filter.some[1].var",
      '"constructor"',
    ],
    ["* with no operand (json-logic-js always throws)", { "*": [] }, "filter.*", "at least one operand"],
    ["missing_some with one operand (always throws)", { missing_some: [1] }, "filter.missing_some", "two operands"],
    ["missing_some with a bare operand (always throws)", { missing_some: 1 }, "filter.missing_some", "two operands"],
    [
      "missing_some with a null key list (always throws)",
      { missing_some: [1, null] },
      "filter.missing_some[1]",
      "list of keys",
    ],
    ["a non-finite number", { "==": [{ var: "latency" }, Number.NaN] }, "filter.==[1]", "finite"],
    ["a non-JSON value", { "==": [{ var: "latency" }, undefined] }, "filter.==[1]", "must be JSON"],
    ["a non-plain object", { "==": [{ var: "start_time" }, new Date(0)] }, "filter.==[1]", "must be JSON"],
  ])("%s", (_name, filter, path, fragment) => {
    const issues = issuesOf(filter);
    expect(issues.map((i) => i.path)).toContain(path);
    expect(issues.find((i) => i.path === path)?.message).toContain(fragment);
  });

  it("reports every problem, not only the first", () => {
    const issues = issuesOf({ and: [{ nope: 1 }, { var: "constructor" }, { "*": [] }] });
    expect(issues.map((i) => i.path)).toEqual(["filter.and[0].nope", "filter.and[1].var", "filter.and[2].*"]);
  });

  it("refuses depth over the limit at the first node too deep (default 32)", () => {
    expect(validateFilter(nested(DEFAULT_FILTER_LIMITS.maxDepth - 1)).ok).toBe(true);
    const issues = issuesOf(nested(DEFAULT_FILTER_LIMITS.maxDepth));
    expect(issues).toHaveLength(1);
    // The literal inside the 32nd operation is the 33rd level.
    expect(issues[0]?.path).toBe(`filter${".![0]".repeat(DEFAULT_FILTER_LIMITS.maxDepth)}`);
    expect(issues[0]?.message).toBe("nests deeper than 32 levels");
  });

  it("counts literal arrays as levels, and takes a custom limit", () => {
    expect(issuesOf({ in: ["a", [[["a"]]]] }, { maxDepth: 3 })).toEqual([
      { path: "filter.in[1][0][0]", message: "nests deeper than 3 levels" },
    ]);
    expect(validateFilter({ in: ["a", ["a"]] }, { maxDepth: 3 }).ok).toBe(true);
  });

  it("refuses a cyclic value through the depth limit instead of overflowing the stack", () => {
    const cyclic: { and: unknown[] } = { and: [] };
    cyclic.and.push(cyclic);
    expect(issuesOf(cyclic)[0]?.message).toContain("nests deeper");
  });

  it("refuses more nodes than the limit (default 2,000)", () => {
    const wide = { or: Array.from({ length: 700 }, (_, i) => ({ "==": [{ var: "name" }, `n${i}`] })) };
    expect(validateFilter(wide).ok).toBe(false);
    expect(issuesOf(wide)).toEqual([{ path: "filter", message: "has more than 2000 nodes" }]);
    const within = { or: Array.from({ length: 399 }, (_, i) => ({ "==": [{ var: "name" }, `n${i}`] })) };
    expect(validateFilter(within).ok).toBe(true);
    expect(issuesOf(within, { maxNodes: 100 })).toEqual([{ path: "filter", message: "has more than 100 nodes" }]);
  });

  it("refuses a serialized size over the limit (default 64 KiB, UTF-8 bytes)", () => {
    const big = { in: [{ var: "name" }, "x".repeat(64 * 1024)] };
    expect(issuesOf(big)).toEqual([
      { path: "filter", message: `is ${64 * 1024 + 26} bytes as JSON; the limit is 65536` },
    ]);
    // "é" is two bytes in UTF-8, one UTF-16 unit: the limit is on bytes.
    const accents = { in: [{ var: "name" }, "é".repeat(20)] };
    const size = new TextEncoder().encode(JSON.stringify(accents)).length;
    expect(validateFilter(accents, { maxBytes: size }).ok).toBe(true);
    expect(validateFilter(accents, { maxBytes: size - 1 }).ok).toBe(false);
  });
});

describe("validateFilter accepts", () => {
  it.each<[string, unknown]>([
    [
      "the DESIGN.md example",
      { and: [{ "==": [{ var: "run_type" }, "llm"] }, { "==": [{ var: "status" }, "error"] }] },
    ],
    ["true (match every run)", true],
    ["false", false],
    ["any other bare literal", "yes"],
    [
      "derived variables",
      { and: [{ ">": [{ var: "latency" }, 5] }, { "==": [{ var: "metadata.env" }, "prod"] }, { var: "has_error" }] },
    ],
    [
      "the between forms",
      { and: [{ "<": [1, { var: "latency" }, 10] }, { "<=": [0, { var: "total_tokens" }, 4096] }] },
    ],
    [
      "nested and/or/!",
      {
        or: [
          { and: [{ "!": { in: ["beta", { var: "tags" }] } }, { "!!": [{ var: "error" }] }] },
          { "===": [{ var: "name" }, "Search"] },
        ],
      },
    ],
    ["unary shorthand", { "!": { var: "is_root" } }],
    ["per-element logic", { some: [{ var: "tags" }, { "==": [{ var: "" }, "prod"] }] }],
    ["reduce", { ">": [{ reduce: [{ var: "tags" }, { "+": [{ var: "accumulator" }, 1] }, 0] }, 2] }],
    ["var with a default and a numeric index", { "==": [{ var: ["metadata.tier", "free"] }, { var: 0 }] }],
    ["a computed var path (guarded when resolved)", { var: { cat: ["metadata.", "env"] } }],
    ["missing and missing_some", { or: [{ missing: ["a", "b"] }, { missing_some: [1, ["a", "b"]] }] }],
    [
      "every operator json-logic-js tolerates with any arity",
      {
        and: [
          { "!": [1, 2] },
          { "==": [1] },
          { if: [] },
          { "+": [] },
          { min: [] },
          { cat: [] },
          { merge: [] },
          { missing: [] },
          { all: [] },
        ],
      },
    ],
    ["strings that look like forbidden paths outside var", { "==": [{ var: "name" }, "__proto__"] }],
    ["a forbidden name as a var default, not a path", { var: ["name", "constructor"] }],
  ])("%s", (_name, filter) => {
    const result = validateFilter(filter);
    expect(result.ok ? [] : result.issues).toEqual([]);
    if (result.ok) expect(result.value).toBe(filter);
  });
});
