import { describe, expect, it } from "vitest";
import {
  DEFAULT_FILTER_STEPS,
  READS_LATENCY,
  READS_METADATA,
  compileFilter,
  derivedFactsRead,
  explainFilter,
  filterCost,
  resolveFilter,
  runFacts,
  validateFilter,
} from "@runhooks/rules";
import { run, withMetadata } from "./langsmith/runs.js";

function compiled(filter: unknown) {
  const valid = validateFilter(filter);
  if (!valid.ok) throw new Error(JSON.stringify(valid.issues));
  return compileFilter(valid.value);
}

function on(filter: unknown, facts: Record<string, unknown>) {
  return compiled(filter)(facts);
}

describe("like: SQL LIKE, case-sensitive", () => {
  it.each<[string, unknown, boolean]>([
    ["abc", "abc", true],
    ["abc", "abcd", false],
    ["a%", "abc", true],
    ["%c", "abc", true],
    ["%b%", "abc", true],
    ["%B%", "abc", false],
    ["a_c", "abc", true],
    ["a_c", "ac", false],
    ["%", "", true],
    ["", "", true],
    ["_", "", false],
    ["%a%b%c%", "xaybzc", true],
    ["%a%b%c%", "xcybza", false],
    ["a%b%b", "abab", true],
    ["%ab%ba%", "aba", false],
    ["50\\%", "50%", true],
    ["50\\%", "500", false],
    ["a\\_c", "abc", false],
    ["a\\_c", "a_c", true],
    ["%_%_", "ab", true],
    ["%_%_", "a", false],
    ["%refund%", 42, false],
    ["%", null, false],
  ])("like(%j) on %j is %s", (pattern, value, expected) => {
    expect(on({ like: [{ var: "v" }, pattern] }, { v: value })).toBe(expected);
    // A pattern computed at run time means the same.
    expect(on({ like: [{ var: "v" }, { var: "p" }] }, { v: value, p: pattern })).toBe(expected);
  });
});

describe("search: a text in any string inside the values, ignoring case", () => {
  it.each<[string, unknown, boolean]>([
    ["refund", { messages: [{ content: "A REFUND please" }] }, true],
    ["refund", { refund: 1 }, false],
    ["42", { n: 42 }, false],
    ["é", ["CAFÉ"], true],
    ["", "anything", false],
  ])("search(%j) in %j is %s", (needle, value, expected) => {
    expect(on({ search: [needle, { var: "v" }] }, { v: value })).toBe(expected);
  });
});

describe("some_entry: one key/value entry of an object", () => {
  const doc = {
    env: "prod",
    user: { id: 7, tier: { name: "pro" } },
    messages: [{ role: "user", content: "hi" }, [{ role: "ai" }]],
    empty: [],
    none: null,
  };
  const has = (key: string, value: unknown, depth?: number) =>
    on(
      {
        some_entry: [
          { var: "doc" },
          { and: [{ "==": [{ var: "key" }, key] }, { "===": [{ var: "value" }, value] }] },
          ...(depth === undefined ? [] : [depth]),
        ],
      },
      { doc },
    );

  it.each<[string, unknown, number | undefined, boolean]>([
    ["env", "prod", undefined, true],
    ["user.id", 7, undefined, true],
    ["user.id", 7, 1, false],
    ["user.tier.name", "pro", undefined, true],
    ["user.tier.name", "pro", 2, false],
    ["messages.role", "user", undefined, true],
    ["messages.role", "ai", undefined, true],
    ["messages.content", "hi", 2, true],
    ["none", null, 1, true],
    ["id", 7, undefined, false],
  ])("%s = %j within depth %s: %s", (key, value, depth, expected) => {
    expect(has(key, value, depth)).toBe(expected);
  });

  it("gives an empty array as one entry, and nothing for a value that is not an object", () => {
    expect(on({ some_entry: [{ var: "doc" }, { "==": [{ var: "key" }, "empty"] }] }, { doc })).toBe(true);
    for (const value of [null, "text", ["a"], 3])
      expect(on({ some_entry: [{ var: "doc" }, true] }, { doc: value })).toBe(false);
  });
});

describe("the extension operators on write", () => {
  it.each<[unknown, string, string]>([
    [{ like: [{ var: "name" }] }, "filter.like", "needs two operands: a value and a pattern"],
    [{ instant: [] }, "filter.instant", "needs one operand: a timestamp"],
    [{ search: ["x"] }, "filter.search", "at least one value to look through"],
    [{ some_entry: [{ var: "inputs" }] }, "filter.some_entry", "needs an object, the logic each entry is tested with"],
    [
      { some_entry: [{ var: "inputs" }, true, 0] },
      "filter.some_entry[2]",
      "must be a whole number of key levels, at least 1",
    ],
    [{ some_entry: [{ var: "inputs" }, true, "2"] }, "filter.some_entry[2]", "at least 1"],
  ])("%j is refused at %s", (filter, path, message) => {
    const valid = validateFilter(filter);
    expect(valid.ok).toBe(false);
    if (valid.ok) return;
    expect(valid.issues).toEqual([{ path, message: expect.stringContaining(message) as string }]);
  });

  it("bounds iteration inside entries: a costly test per entry inside an iteration is refused, naming it", () => {
    const costly = { like: [{ var: "value" }, `%${"_".repeat(40)}%`] };
    const cost = filterCost({ some: [{ var: "tags" }, { some_entry: [{ var: "inputs" }, costly] }] });
    expect(cost.ok).toBe(false);
    if (cost.ok) return;
    // The deepest iteration at fault: the entry walk, run once per tag.
    expect(cost.path).toBe("filter.some[1]");
    expect(cost.message).toMatch(/^nested iteration costs up to [\d,]+ steps per run; the limit is 100,000$/);
    expect(filterCost({ some_entry: [{ var: "inputs" }, costly] }).ok).toBe(true);
  });

  it("tells the rule book which derived facts a LangSmith filter reads", () => {
    const tree = (text: string) => {
      const resolved = resolveFilter(text);
      if (!resolved.ok) throw new Error("refused");
      return resolved.tree;
    };
    expect(derivedFactsRead(tree('eq(metadata_key, "env")'))).toBe(READS_METADATA);
    expect(derivedFactsRead(tree('gt(latency, "5s")'))).toBe(READS_LATENCY);
    expect(derivedFactsRead(tree('and(eq(input_key, "q"), eq(name, "x"))'))).toBe(0);
  });

  it("explains an entry test as one part that read the object, not its entries", () => {
    const resolved = resolveFilter("and(eq(metadata_key, 'env'), eq(metadata_value, 'prod'))");
    if (!resolved.ok) throw new Error("refused");
    const explained = explainFilter(resolved.tree, runFacts(withMetadata({ env: "dev" })), {
      sources: resolved.sources,
    });
    expect(explained.root.parts).toEqual([
      {
        path: "filter.and[0]",
        source: "eq(metadata_key, 'env'), eq(metadata_value, 'prod')",
        expression: (resolved.tree as unknown as { and: unknown[] }).and[0],
        result: false,
        vars: { metadata: { env: "dev" } },
      },
    ]);
  });
});

describe("the extension operators under the evaluation budget", () => {
  /** Evaluates twice from fresh compilations: the same verdict and the same steps (a replay). */
  function judged(text: string, facts: Record<string, unknown>) {
    const resolved = resolveFilter(text);
    if (!resolved.ok) throw new Error(JSON.stringify(resolved.issues));
    const first = compileFilter(resolved.tree);
    const verdict = first(facts);
    const again = compileFilter(resolved.tree);
    expect(again(facts)).toBe(verdict);
    expect(again.lastSteps).toBe(first.lastSteps);
    return { verdict, steps: first.lastSteps };
  }

  it('a search through a huge run runs out of budget: the verdict is "error", the same on every replay', () => {
    const huge = runFacts(run({ inputs: { document: "x".repeat(4_000_000) }, name: "needle here" }));
    const searched = judged('search("needle")', huge);
    expect(searched.verdict).toBe("error");
    expect(searched.steps).toBeGreaterThan(DEFAULT_FILTER_STEPS);
    // The name alone is cheap; the budget is per evaluation, not per string.
    expect(judged('search(name, "needle")', huge).verdict).toBe(true);
  });

  it("charges a huge array before walking it, and walks deep nesting without the call stack", () => {
    const wide = runFacts(run({ outputs: { items: Array.from({ length: 500_000 }, () => "a") } }));
    expect(judged('search(outputs, "zzz")', wide).verdict).toBe("error");
    let deep: Record<string, unknown> = { leaf: "needle" };
    for (let i = 0; i < 200_000; i++) deep = { next: deep };
    const nested = runFacts(run({ inputs: deep as Record<string, never> }));
    expect(judged('search(inputs, "needle")', nested).verdict).toBe("error");
    expect(judged('exists(inputs, "leaf")', nested).verdict).toBe("error");
    expect(judged('exists(inputs, "next")', nested).verdict).toBe(true);
  });

  it("charges key/value matching per entry, LIKE per scan and instants per character", () => {
    const many = Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`k${i}`, i]));
    expect(
      judged('and(eq(metadata_key, "k59999"), eq(metadata_value, 59999))', runFacts(withMetadata(many))).verdict,
    ).toBe("error");
    const long = runFacts(run({ name: "a".repeat(2_000_000) }));
    expect(judged('like(name, "%b%")', long).verdict).toBe("error");
    expect(judged('like(name, "b%")', long).verdict).toBe("error");
    const odd = runFacts(run({ start_time: "2".repeat(3_000_000) }));
    expect(judged('gt(start_time, "2024-01-01")', odd).verdict).toBe("error");
  });

  it("costs little on an ordinary run", () => {
    const facts = runFacts(withMetadata({ user_id: "u1" }, { inputs: { messages: [{ content: "refund" }] } }));
    const steps = judged(
      'and(search("refund"), eq(metadata_key, "user_id"), like(name, "Chat%"), gt(start_time, "2024-01-01"))',
      facts,
    );
    expect(steps.verdict).toBe(true);
    expect(steps.steps).toBeLessThan(100);
  });
});
