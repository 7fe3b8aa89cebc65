import { describe, expect, it } from "vitest";
import { describeProblem, parseLangSmithFilter, resolveFilter } from "@runhooks/rules";

function refusal(filter: unknown): string {
  const resolved = resolveFilter(filter);
  if (resolved.ok) throw new Error(`expected ${JSON.stringify(filter)} to be refused`);
  expect(resolved.issues.map((i) => i.path)).toEqual(["filter"]);
  return resolved.issues[0]!.message;
}

describe("a LangSmith filter that does not parse is refused, naming the position and what is accepted", () => {
  it.each<[string, string, string]>([
    ['eq(run_type, "llm"', "line 1, column 19 (character 18)", 'expected "," or ")" in eq(…), found the end'],
    ['and(eq(run_type, "llm") eq(status, "error"))', "line 1, column 25 (character 24)", 'expected "," or ")"'],
    ['eq(run_type, "llm))', "line 1, column 14 (character 13)", 'this string has no closing "'],
    ["eq(run_type, 'llm)", "line 1, column 14 (character 13)", "this string has no closing '"],
    ['eq(name, "x") extra', "line 1, column 15 (character 14)", 'unexpected "extra" after the end of the filter'],
    ['eq(name, "x") @', "line 1, column 15 (character 14)", 'unexpected character "@"'],
    ["", "line 1, column 1 (character 0)", "the filter is empty"],
    ["   ", "line 1, column 1 (character 0)", "the filter is empty"],
    [
      'and(eq(run_type, "llm"), regex(name, "a.*"))',
      "line 1, column 26 (character 25)",
      'unknown function "regex"; the functions are and, or, not, eq, neq, gt, gte, lt, lte, has, search, in, like, exists',
    ],
    [
      'eq(run_typ, "llm")',
      "line 1, column 4 (character 3)",
      'unknown field "run_typ"; the fields are id, name, run_type, status, error',
    ],
    [
      'and(eq(run_type, "llm"),\n    eq(status, error))',
      "line 2, column 16 (character 40)",
      'found the name error (a text value goes in quotes: "error")',
    ],
    [
      'and(eq(feedback_key, "user_score"), eq(feedback_score, 1))',
      "line 1, column 8 (character 7)",
      "feedback is not supported yet",
    ],
    [
      "gt(feedback_score, 0.5)",
      "line 1, column 4 (character 3)",
      "feedback_key and feedback_score cannot be filtered on",
    ],
    ['eq(run_type, "llm", "chain")', "line 1, column 1 (character 0)", "eq takes 2 arguments: eq(field, value)"],
    ["not()", "line 1, column 1 (character 0)", "not takes 1 argument: not(condition)"],
    ["and()", "line 1, column 1 (character 0)", "and needs at least one condition"],
    ['gt(name, "a")', "line 1, column 1 (character 0)", "gt compares numbers and times; name is not one"],
    ['gt(latency, "soon")', "line 1, column 13 (character 12)", 'latency takes seconds, or a duration such as "5s"'],
    ['gt(start_time, "yesterday")', "line 1, column 16 (character 15)", "start_time takes a timestamp such as"],
    ['eq(total_tokens, "many")', "line 1, column 18 (character 17)", "total_tokens takes a number or null"],
    ["eq(is_root, 1)", "line 1, column 13 (character 12)", "is_root takes true, false or null"],
    ['search("")', "line 1, column 8 (character 7)", "the text to search for must be a non-empty quoted string"],
    ['in(run_type, "llm")', "line 1, column 14 (character 13)", 'expected a list such as ["a", "b"]'],
    ["in(run_type, [])", "line 1, column 14 (character 13)", "the list is empty"],
    ['"llm"', "line 1, column 1 (character 0)", 'expected a condition such as eq(run_type, "llm"), found "llm"'],
    ["run_type", "line 1, column 1 (character 0)", "expected a condition"],
    ['has(metadata, "env")', "line 1, column 15 (character 14)", "has(metadata, …) takes a JSON object"],
    [
      `has(metadata, '{"a": {"b": {"c": 1}}}')`,
      "line 1, column 15 (character 14)",
      '"a.b" nests deeper than metadata search goes',
    ],
    ['has(name, "x")', "line 1, column 1 (character 0)", "has takes tags or metadata"],
    ['eq(metadata, "x")', "line 1, column 1 (character 0)", "its entries are metadata_key and metadata_value"],
    ['gt(metadata_key, "a")', "line 1, column 1 (character 0)", "metadata_key is text"],
    ['eq(eq(name, "x"), 1)', "line 1, column 4 (character 3)", "expected a field name such as run_type, found eq(…)"],
    [
      "exists(metadata)",
      "line 1, column 1 (character 0)",
      'exists takes 2 arguments: exists(field) or exists(metadata, "key")',
    ],
    ["eq(name, 12abc)", "line 1, column 10 (character 9)", 'unexpected character "1"'],
  ])("%j", (filter, position, message) => {
    const text = refusal(filter);
    expect(text.startsWith(`${position}: `), text).toBe(true);
    expect(text).toContain(message);
  });

  it("refuses calls nested deeper than the filter depth limit, at the call too deep", () => {
    const deep = `${"not(".repeat(40)}eq(name, "x")${")".repeat(40)}`;
    expect(refusal(deep)).toBe("line 1, column 129 (character 128): nests deeper than 32 calls");
  });

  it("refuses a string over the filter size limit, and one whose tree costs too much, naming the part", () => {
    expect(refusal(`eq(name, "${"x".repeat(70_000)}")`)).toBe("is 70012 bytes; the limit is 65536");
    const huge = `in(run_type, [${Array.from({ length: 2100 }, (_, i) => `"t${i}"`).join(", ")}])`;
    expect(refusal(huge)).toBe("has more than 2000 nodes");
    // 600 single-character wildcards scanned per entry, for each of the entries the bound assumes.
    const pattern = `%${"_".repeat(600)}%`;
    const costly = `and(eq(name, "x"), like(input_value, "${pattern}"))`;
    expect(refusal(costly)).toMatch(
      new RegExp(
        `^like\\(input_value, "${pattern}"\\): nested iteration costs up to [\\d,]+ steps per run; the limit is 100,000$`,
      ),
    );
  });

  it("gives offsets in UTF-16 code units, lines counted by newline", () => {
    const problem = parseLangSmithFilter('eq(name, "é")\n\n  bogus', 32);
    expect(problem.ok).toBe(false);
    if (problem.ok) return;
    expect(describeProblem('eq(name, "é")\n\n  bogus', problem)).toBe(
      'line 3, column 3 (character 17): unexpected "bogus" after the end of the filter',
    );
  });
});

describe("what a rule's filter may be (resolveFilter)", () => {
  it("refuses a bare number or array, saying what to write instead", () => {
    for (const filter of [1, 0, -2.5]) {
      expect(refusal(filter)).toMatch(/^is a number, which is not a filter: write a JSON-logic operation such as/);
    }
    for (const filter of [[], [1], [{ "==": [1, 1] }]]) {
      expect(refusal(filter)).toContain("is an array, which is not a filter");
      expect(refusal(filter)).toContain("\"eq(run_type, 'llm')\"");
    }
  });

  it("keeps true, false, null and JSON-logic as JSON-logic, with no text", () => {
    for (const filter of [true, false, null, { "==": [{ var: "run_type" }, "llm"] }]) {
      const resolved = resolveFilter(filter);
      expect(resolved).toEqual({ ok: true, tree: filter });
    }
  });

  it("answers a string with its tree, the text and the text of each part by tree path", () => {
    const text = 'and(eq(run_type, "llm"), lt(total_tokens, 100), not(has(tags, "beta")))';
    expect(resolveFilter(text)).toEqual({
      ok: true,
      text,
      tree: {
        and: [
          { "==": [{ var: "run_type" }, "llm"] },
          { and: [{ "!=": [{ var: "total_tokens" }, null] }, { "<": [{ var: "total_tokens" }, 100] }] },
          { "!": [{ in: ["beta", { var: "tags" }] }] },
        ],
      },
      sources: {
        filter: text,
        "filter.and[0]": 'eq(run_type, "llm")',
        "filter.and[1]": "lt(total_tokens, 100)",
        "filter.and[2]": 'not(has(tags, "beta"))',
        "filter.and[2].![0]": 'has(tags, "beta")',
      },
    });
  });
});

describe("how LangSmith calls translate", () => {
  const tree = (text: string): unknown => {
    const resolved = resolveFilter(text);
    if (!resolved.ok) throw new Error(JSON.stringify(resolved.issues));
    return resolved.tree;
  };

  it.each<[string, unknown]>([
    ['eq(run_type, "llm")', { "==": [{ var: "run_type" }, "llm"] }],
    ["neq(error, null)", { "!=": [{ var: "error" }, null] }],
    ['gt(latency, "500ms")', { ">": [{ var: "latency" }, 0.5] }],
    ['gte(latency, "2m")', { ">=": [{ var: "latency" }, 120] }],
    ["gt(total_cost, -1)", { and: [{ "!=": [{ var: "total_cost" }, null] }, { ">": [{ var: "total_cost" }, -1] }] }],
    [
      'lt(total_tokens, "5000")',
      { and: [{ "!=": [{ var: "total_tokens" }, null] }, { "<": [{ var: "total_tokens" }, 5000] }] },
    ],
    [
      'lte(end_time, "2024-01-01")',
      { "<=": [{ instant: [{ var: "end_time" }] }, { instant: ["2024-01-01T00:00:00Z"] }] },
    ],
    ['in(run_type, ["llm", "chain"])', { in: [{ var: "run_type" }, ["llm", "chain"]] }],
    [
      "in(total_tokens, [1, 2])",
      { or: [{ "==": [{ var: "total_tokens" }, 1] }, { "==": [{ var: "total_tokens" }, 2] }] },
    ],
    ['in(tags, ["a", "b"])', { some: [{ var: "tags" }, { in: [{ var: "" }, ["a", "b"]] }] }],
    ['like(name, "Chat%")', { like: [{ var: "name" }, "Chat%"] }],
    ['eq(tags, "beta")', { in: ["beta", { var: "tags" }] }],
    ['neq(tags, "beta")', { "!": [{ in: ["beta", { var: "tags" }] }] }],
    ["exists(error)", { "!=": [{ var: "error" }, null] }],
    ["exists(tags)", { "!!": [{ var: "tags" }] }],
    ['search(name, "chat")', { search: ["chat", { var: "name" }] }],
    ['search(outputs, "paris")', { search: ["paris", { var: "outputs" }] }],
    ['exists(metadata, "user_id")', { some_entry: [{ var: "metadata" }, { "==": [{ var: "key" }, "user_id"] }, 2] }],
    [
      'exists(inputs, "messages.content")',
      { some_entry: [{ var: "inputs" }, { "==": [{ var: "key" }, "messages.content"] }] },
    ],
    [
      'or(eq(metadata_key, "a"), eq(metadata_value, "b"))',
      {
        or: [
          { some_entry: [{ var: "metadata" }, { "==": [{ var: "key" }, "a"] }, 2] },
          { some_entry: [{ var: "metadata" }, { "==": [{ var: "value" }, "b"] }, 2] },
        ],
      },
    ],
    [
      'and(eq(input_key, "q"), eq(name, "x"), eq(output_key, "a"), neq(input_value, "y"))',
      {
        and: [
          {
            some_entry: [
              { var: "inputs" },
              { and: [{ "==": [{ var: "key" }, "q"] }, { "!=": [{ var: "value" }, "y"] }] },
            ],
          },
          { "==": [{ var: "name" }, "x"] },
          { some_entry: [{ var: "outputs" }, { "==": [{ var: "key" }, "a"] }] },
        ],
      },
    ],
    [
      'and(eq(metadata_key, "n"), gt(metadata_value, 0))',
      {
        and: [
          {
            some_entry: [
              { var: "metadata" },
              { and: [{ "==": [{ var: "key" }, "n"] }, { ">": [{ var: "value" }, 0] }] },
              2,
            ],
          },
        ],
      },
    ],
    ["eq(name, 'it\\'s \\u00e9')", { "==": [{ var: "name" }, "it's é"] }],
  ])("%s", (text, expected) => {
    expect(tree(text)).toEqual(expected);
  });
});
