import { describe, expect, it, vi } from "vitest";
import { compileFilter } from "@runhooks/rules";
import { compileExpression } from "../src/filter/compile.js";
import { compile, oracle, sameValue, show, valid } from "./filter/oracle.js";

const THROWS = Symbol("throws");

/**
 * json-logic-js 2.0.5's quirks, each stated (the expected column is what json-logic-js returns, and
 * the test checks that it still does) and mirrored by the compiled evaluator.
 */
const QUIRKS: [string, unknown, unknown, unknown][] = [
  ["== coerces", { "==": [1, "1"] }, {}, true],
  ["== coerces '' to 0", { "==": [0, ""] }, {}, true],
  ["== keeps null apart from 0", { "==": [null, 0] }, {}, false],
  ["== compares an array by its string", { "==": [[1, 2], "1,2"] }, {}, true],
  ["=== does not coerce", { "===": [1, "1"] }, {}, false],
  ["two literal arrays are different arrays", { "==": [[1], [1]] }, {}, false],
  ["!= coerces", { "!=": ["1", 1] }, {}, false],
  ["> compares strings as strings", { ">": ["10", "9"] }, {}, false],
  ["> compares a string and a number as numbers", { ">": ["10", 9] }, {}, true],
  ["< between", { "<": [1, 2, 3] }, {}, true],
  ["< between, out of range", { "<": [1, 3, 2] }, {}, false],
  ["<= between, inclusive", { "<=": [1, 1, 1] }, {}, true],
  ["< with an undefined third operand is the two-operand form", { "<": [1, 2, { and: [] }] }, {}, true],
  ["+ parses strings", { "+": ["1", "2"] }, {}, 3],
  ["+ parses a numeric prefix", { "+": ["1.5abc", 1] }, {}, 2.5],
  ["+ of nothing is 0", { "+": [] }, {}, 0],
  ["+ of one string is a number", { "+": "3" }, {}, 3],
  ["+ turns -0 into 0", { "+": [-0] }, {}, 0],
  ["* of one operand returns it unconverted", { "*": ["3"] }, {}, "3"],
  ["* parses strings", { "*": ["2", "3"] }, {}, 6],
  ["- of one operand negates", { "-": ["2"] }, {}, -2],
  ["- null is - 0", { "-": [5, null] }, {}, 5],
  ["/ by zero is Infinity", { "/": [1, 0] }, {}, Infinity],
  ["0 / 0 is NaN", { "/": [0, 0] }, {}, NaN],
  ["% keeps the dividend's sign", { "%": [-7, 3] }, {}, -1],
  ["max of nothing is -Infinity (truthy)", { max: [] }, {}, -Infinity],
  ["min of nothing is Infinity", { min: [] }, {}, Infinity],
  ["max coerces strings", { max: ["3", 10] }, {}, 10],
  ["max of a non-number is NaN", { max: ["a", 1] }, {}, NaN],
  ["var '' is the whole data", { var: "" }, { a: 1 }, { a: 1 }],
  ["var [] is the whole data", { var: [] }, { a: 1 }, { a: 1 }],
  ["var of an absent path is null", { var: "nope" }, {}, null],
  ["var of an absent path takes the default", { var: ["nope", 5] }, {}, 5],
  ["var of a present null ignores the default", { var: ["x", 5] }, { x: null }, null],
  ["var walks arrays by index", { var: "tags.1" }, { tags: ["a", "b"] }, "b"],
  ["var takes a number as an index", { var: 1 }, ["a", "b"], "b"],
  ["var reads a string's length", { var: "name.length" }, { name: "Search" }, 6],
  ["var through null is not found", { var: ["a.b", "d"] }, { a: null }, "d"],
  ["var of an array path joins it with commas", { var: [["a", "b"]] }, { "a,b": 1 }, 1],
  ["var's path may be computed", { var: { cat: ["metadata.", "env"] } }, { metadata: { env: "prod" } }, "prod"],
  ["in finds a substring", { in: ["Spring", "Springfield"] }, {}, true],
  ["in coerces the needle for strings", { in: [1, "a1"] }, {}, true],
  ["in is strict for arrays", { in: ["1", [1]] }, {}, false],
  ["in of a null haystack is false", { in: ["a", null] }, {}, false],
  ["in of a number haystack is false", { in: ["a", 5] }, {}, false],
  ["cat drops null and joins nested arrays", { cat: ["a", null, 1, [2, 3]] }, {}, "a12,3"],
  ["substr with a negative start", { substr: ["jsonlogic", -5] }, {}, "logic"],
  ["substr with a negative length", { substr: ["jsonlogic", 1, -1] }, {}, "sonlogi"],
  ["substr of a number", { substr: [12345, 1, 2] }, {}, "23"],
  ["substr with a string negative length concatenates (so is empty)", { substr: [12345, 1, "-1"] }, {}, ""],
  ["missing lists null and empty values", { missing: ["a", "b", "c"] }, { a: 1, b: "" }, ["b", "c"]],
  ["missing takes a key list as first operand and ignores the rest", { missing: [["a", "b"], "c"] }, { a: 1 }, ["b"]],
  ["missing_some: enough present", { missing_some: [1, ["a", "b"]] }, { a: 1 }, []],
  ["missing_some: too few present", { missing_some: [2, ["a", "b"]] }, { a: 1 }, ["b"]],
  ["all of an empty array is false", { all: [[], { var: "" }] }, {}, false],
  ["some of an empty array is false", { some: [[], { var: "" }] }, {}, false],
  ["none of an empty array is true", { none: [[], { var: "" }] }, {}, true],
  ["all of a non-array is false", { all: [{ var: "nope" }, true] }, {}, false],
  ["filter of a non-array is []", { filter: ["abc", true] }, {}, []],
  ["map without logic maps to undefined", { map: [[1, 2]] }, {}, [undefined, undefined]],
  ["reduce of a non-array is the initial value", { reduce: [5, { var: "current" }, "init"] }, {}, "init"],
  [
    "reduce without an initial value starts from null (and + of null is NaN)",
    { reduce: [[1, 2], { "+": [{ var: "accumulator" }, { var: "current" }] }] },
    {},
    NaN,
  ],
  [
    "reduce with an initial value",
    { reduce: [[1, 2], { "+": [{ var: "accumulator" }, { var: "current" }] }, 0] },
    {},
    3,
  ],
  ["[] is falsy", { if: [[], "yes", "no"] }, {}, "no"],
  ["'0' is truthy", { if: ["0", "yes", "no"] }, {}, "yes"],
  ["! of [] is true", { "!": [[]] }, {}, true],
  ["! reads only its first operand", { "!": [false, true] }, {}, true],
  ["and returns the first falsy operand", { and: [1, "", 2] }, {}, ""],
  ["or returns the last operand when none is truthy", { or: [0, []] }, {}, []],
  ["and of nothing is undefined", { and: [] }, {}, undefined],
  ["if without else and no true condition is null", { if: [false, 1] }, {}, null],
  ["if with one operand returns it", { if: ["x"] }, {}, "x"],
  ["?: is if", { "?:": [true, 1, 2] }, {}, 1],
  ["merge flattens one level", { merge: [1, [2, [3]]] }, {}, [1, 2, [3]]],
  // Data that json-logic-js re-reads as logic: `missing` applies `{"var": key}` to each key.
  [
    "missing evaluates a key from the data that looks like logic",
    { missing: { var: "keys" } },
    { keys: [{ var: "a" }], a: "b", b: 1 },
    [],
  ],
  [
    "missing reads an array key from the data as [path, default]",
    { missing: { var: "keys" } },
    { keys: [["nope", "x"]] },
    [],
  ],
  // json-logic-js throws on these runs: the compiled filter does not match them.
  ["in on an object whose indexOf is data", { in: ["x", { var: "o" }] }, { o: { indexOf: 1 } }, THROWS],
  ["missing_some with a null key list", { missing_some: [1, { var: "nope" }] }, {}, THROWS],
  ["== on an object whose toString is data", { "==": [{ var: "o" }, "x"] }, { o: { toString: 1 } }, THROWS],
  ["cat of an object whose toString is data", { cat: [{ var: "o" }] }, { o: { toString: "x" } }, THROWS],
  [
    "a key from the data naming an unknown operator",
    { missing: { var: "keys" } },
    { keys: [{ no_such_op: 1 }] },
    THROWS,
  ],
  ["an unused operand still throws", { "!": [false, { in: ["x", { var: "o" }] }] }, { o: { indexOf: 1 } }, THROWS],
  ["a throw under ! does not turn into a match", { "!": { in: ["x", { var: "o" }] } }, { o: { indexOf: 1 } }, THROWS],
];

describe("compileFilter mirrors json-logic-js 2.0.5", () => {
  it.each(QUIRKS)("%s", (_name, filter, data, expected) => {
    const reference = oracle(filter, data);
    const ours = (() => {
      try {
        return { ok: true as const, value: compileExpression(valid(filter))(data) };
      } catch {
        return { ok: false as const };
      }
    })();
    if (expected === THROWS) {
      expect(reference.ok).toBe(false);
      expect(ours.ok).toBe(false);
      expect(compile(filter)(data as Record<string, unknown>)).toBe(false);
      return;
    }
    expect(
      reference.ok && sameValue(reference.value, expected),
      `json-logic-js gave ${reference.ok ? show(reference.value) : "a throw"}`,
    ).toBe(true);
    expect(ours.ok && sameValue(ours.value, expected), `compiled gave ${ours.ok ? show(ours.value) : "a throw"}`).toBe(
      true,
    );
    const truthy = Array.isArray(expected) ? expected.length > 0 : Boolean(expected);
    expect(compile(filter)(data as Record<string, unknown>)).toBe(truthy);
  });

  it("a bare literal matches by its truthiness", () => {
    expect(compile(true)({})).toBe(true);
    expect(compile(false)({})).toBe(false);
    expect(compile([])({})).toBe(false);
    expect(compile("0")({})).toBe(true);
  });

  it("re-reads `log` found in data as identity, without writing to the console", () => {
    const spy = vi.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      const filter = { missing: { var: "keys" } };
      const data = { keys: [{ log: "a" }], a: 1 };
      const reference = oracle(filter, data);
      expect(spy).toHaveBeenCalledTimes(1); // json-logic-js logged
      spy.mockClear();
      const ours = compileExpression(valid(filter))(data);
      expect(reference.ok && sameValue(ours, reference.value)).toBe(true);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it("compiles once and evaluates many runs (closures hold no per-run state)", () => {
    const filter = compile({
      and: [{ "==": [{ var: "run_type" }, "llm"] }, { some: [{ var: "tags" }, { "==": [{ var: "" }, "prod"] }] }],
    });
    expect(filter({ run_type: "llm", tags: ["prod"] })).toBe(true);
    expect(filter({ run_type: "llm", tags: ["dev"] })).toBe(false);
    expect(filter({ run_type: "tool", tags: ["prod"] })).toBe(false);
    expect(filter({ run_type: "llm", tags: ["x", "prod"] })).toBe(true);
  });
});

describe("where the compiled filter deliberately differs from json-logic-js", () => {
  it("a var path computed at run time never enters the prototype chain: it resolves as not found", () => {
    const filter = { var: [{ cat: ["__pro", "to__"] }, "absent"] };
    const reference = oracle(filter, {});
    expect(reference.ok && reference.value).toBe(Object.prototype); // json-logic-js walks into it
    expect(compileExpression(valid(filter))({})).toBe("absent");
    expect(compileFilter(valid({ "!!": { var: { cat: ["constr", "uctor"] } } }))({})).toBe(false);
  });

  it("a missing key from the data that names the prototype chain counts as missing", () => {
    const filter = { missing: { var: "keys" } };
    const data = { keys: ["constructor", "name"], name: "x" };
    expect(oracle(filter, data)).toEqual({ ok: true, value: [] });
    expect(compileExpression(valid(filter))(data)).toEqual(["constructor"]);
  });
});
