import { describe, expect, it } from "vitest";
import {
  JSON_LOGIC_OPERATORS,
  READS_ALL_FACTS,
  attachFacts,
  compileFilter,
  derivedFactsRead,
  runFacts,
  validateFilter,
} from "@runhooks/rules";
// The raw-value comparison needs the internal compiler (the public API returns only truthiness).
import { compileExpression } from "../src/filter/compile.js";
import { mulberry32 } from "../../../test/support/random.js";
import { FilterGen, Gen, countOperators, generateRun } from "./filter/generate.js";
import { oracle, oracleMatches, sameValue, show } from "./filter/oracle.js";

const CASES = 12_000;
const MIN_PER_OPERATOR = 50;

interface Mismatch {
  readonly filter: unknown;
  readonly facts: Record<string, unknown>;
  readonly expected: unknown;
  readonly actual: unknown;
}

/** The facts a filter can have read: each top-level field its var paths start with. */
function factsSubset(filter: unknown, facts: Record<string, unknown>): Record<string, unknown> {
  const subset: Record<string, unknown> = {};
  const text = JSON.stringify(filter);
  for (const key of Object.keys(facts)) if (text.includes(`"${key}`)) subset[key] = facts[key];
  return subset;
}

function report(mismatches: readonly Mismatch[]): string {
  return mismatches
    .slice(0, 5)
    .map(
      (m) =>
        `filter ${JSON.stringify(m.filter)}\n  facts ${JSON.stringify(m.facts)}\n  json-logic-js ${String(m.expected)}, compiled ${String(m.actual)}`,
    )
    .join("\n");
}

describe("compiled filters agree with json-logic-js 2.0.5 (differential)", () => {
  const g = new Gen(mulberry32(0x5eed_2024));
  const filters = new FilterGen(g);
  const cases = Array.from({ length: CASES }, () => {
    const filter = filters.filter(g.int(2, 5));
    const run = generateRun(g);
    return { filter, run, facts: runFacts(run) };
  });

  it(`every generated filter is valid, and the compiled answer is json-logic-js's on ${CASES} (filter, run) pairs`, () => {
    const mismatches: Mismatch[] = [];
    let matched = 0;
    let threw = 0;
    for (const { filter, facts } of cases) {
      const validation = validateFilter(filter);
      if (!validation.ok)
        throw new Error(
          `generator produced an invalid filter ${JSON.stringify(filter)}: ${JSON.stringify(validation.issues)}`,
        );
      const expected = oracleMatches(filter, facts);
      const actual = compileFilter(validation.value)(facts);
      if (actual !== expected) mismatches.push({ filter, facts: factsSubset(filter, facts), expected, actual });
      if (expected) matched += 1;
      if (!oracle(filter, facts).ok) threw += 1;
    }
    expect(mismatches, report(mismatches)).toEqual([]);
    // The generator must not be degenerate: both answers, and some json-logic-js throws, occur.
    expect(matched).toBeGreaterThan(CASES * 0.15);
    expect(CASES - matched).toBeGreaterThan(CASES * 0.15);
    expect(threw).toBeGreaterThan(0);
  });

  it("the compiled expression's raw value is json-logic-js's too (NaN, -0, arrays, strings)", () => {
    const mismatches: Mismatch[] = [];
    for (const { filter, facts } of cases) {
      const expected = oracle(filter, facts);
      let actual: { ok: true; value: unknown } | { ok: false };
      try {
        actual = { ok: true, value: compileExpression(filter)(facts) };
      } catch {
        actual = { ok: false };
      }
      const agree = expected.ok ? actual.ok && sameValue(actual.value, expected.value) : !actual.ok;
      if (!agree) {
        mismatches.push({
          filter,
          facts: factsSubset(filter, facts),
          expected: expected.ok ? show(expected.value) : "throws",
          actual: actual.ok ? show(actual.value) : "throws",
        });
      }
    }
    expect(mismatches, report(mismatches)).toEqual([]);
  });

  it("a filter answers the same when only the derived facts derivedFactsRead names are computed", () => {
    const mismatches: Mismatch[] = [];
    let limited = 0;
    for (const { filter, run, facts } of cases) {
      const validation = validateFilter(filter);
      if (!validation.ok) continue;
      const reads = derivedFactsRead(validation.value);
      if (reads !== READS_ALL_FACTS) limited += 1;
      const compiled = compileFilter(validation.value);
      const some = attachFacts(structuredClone(run), reads);
      if (compiled(some) !== compiled(facts))
        mismatches.push({
          filter,
          facts: factsSubset(filter, some),
          expected: compiled(facts),
          actual: compiled(some),
        });
    }
    expect(mismatches, report(mismatches)).toEqual([]);
    // Most generated filters skip some fact, or the check would mean little.
    expect(limited).toBeGreaterThan(CASES * 0.5);
  });

  // The extension operators (like, search, some_entry, instant) have no json-logic-js counterpart: the
  // LangSmith differential test (langsmith-differential.test.ts) holds them to a reference evaluator.
  it(`exercises every JSON-logic operator at least ${MIN_PER_OPERATOR} times`, () => {
    const counts = new Map<string, number>();
    for (const { filter } of cases) countOperators(filter, counts);
    const coverage = Object.fromEntries(JSON_LOGIC_OPERATORS.map((op) => [op, counts.get(op) ?? 0]));
    const short = Object.entries(coverage).filter(([, n]) => n < MIN_PER_OPERATOR);
    expect(short, `operator coverage: ${JSON.stringify(coverage)}`).toEqual([]);
  });
});
