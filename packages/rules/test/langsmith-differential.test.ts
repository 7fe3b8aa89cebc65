import { describe, expect, it } from "vitest";
import type { Run } from "@runhooks/contracts";
import {
  EXTENSION_OPERATORS,
  compileFilter,
  explainFilter,
  filterCost,
  resolveFilter,
  runFacts,
  type JsonLogicExpression,
} from "@runhooks/rules";
import { mulberry32 } from "../../../test/support/random.js";
import { Gen, countOperators } from "./filter/generate.js";
import { LangSmithGen, generateLangSmithRun, printLangSmith, type Cond } from "./langsmith/generate.js";
import { referenceMatches } from "./langsmith/reference.js";

const CASES = 12_000;

interface Case {
  readonly cond: Cond;
  readonly text: string;
  readonly tree: JsonLogicExpression;
  readonly run: Run;
}

describe("LangSmith filter strings agree with a reference evaluator (differential)", () => {
  const g = new Gen(mulberry32(0x1a95_3117));
  const gen = new LangSmithGen(g);
  const cases: Case[] = [];
  const refused: string[] = [];
  for (let i = 0; i < CASES; i++) {
    const cond = gen.condition(g.int(1, 4));
    const text = printLangSmith(cond, g);
    const resolved = resolveFilter(text);
    if (!resolved.ok) refused.push(`${text}: ${JSON.stringify(resolved.issues)}`);
    else cases.push({ cond, text, tree: resolved.tree, run: generateLangSmithRun(g) });
  }

  it("every generated filter string resolves", () => {
    expect(refused.slice(0, 5)).toEqual([]);
  });

  it(`the compiled verdict of the text is the reference's on ${CASES} (filter, run) pairs`, () => {
    const mismatches: string[] = [];
    let matched = 0;
    for (const { cond, text, tree, run } of cases) {
      const expected = referenceMatches(cond, run);
      const actual = compileFilter(tree)(runFacts(run));
      if (actual !== expected)
        mismatches.push(
          `${text}\n  tree ${JSON.stringify(tree)}\n  run ${JSON.stringify(run)}\n  reference ${expected}, compiled ${String(actual)}`,
        );
      if (expected) matched += 1;
    }
    expect(mismatches.slice(0, 3)).toEqual([]);
    expect(cases.length).toBe(CASES);
    // Not degenerate: both verdicts are common.
    expect(matched).toBeGreaterThan(CASES * 0.2);
    expect(CASES - matched).toBeGreaterThan(CASES * 0.2);
  });

  it("uses every extension operator and every key/value family many times", () => {
    const counts = new Map<string, number>();
    for (const { tree } of cases) countOperators(tree, counts);
    for (const op of EXTENSION_OPERATORS) expect(counts.get(op) ?? 0, op).toBeGreaterThan(500);
    for (const family of ["metadata_", "input_", "output_"]) {
      const pairs = cases.filter(({ text }) => text.split(family).length > 2 && text.startsWith("and(")).length;
      expect(pairs, family).toBeGreaterThan(200);
    }
  });

  it("never runs out of budget on these runs, stays within the static bound, and replays exactly", () => {
    const over: string[] = [];
    for (const { text, tree, run } of cases) {
      const facts = runFacts(run);
      const first = compileFilter(tree);
      const verdict = first(facts);
      const steps = first.lastSteps;
      const bound = filterCost(tree);
      if (verdict === "error" || !bound.ok || steps > bound.steps)
        over.push(`${text}: ${String(verdict)}, ${steps} steps, bound ${bound.steps}`);
      const again = compileFilter(tree);
      if (again(facts) !== verdict || again.lastSteps !== steps) over.push(`${text}: a replay differs`);
    }
    expect(over.slice(0, 3)).toEqual([]);
  });

  it("explains each written call, and the explanation's answer is the compiled one", () => {
    for (const { tree, run, text } of cases.slice(0, 2000)) {
      const resolved = resolveFilter(text);
      if (!resolved.ok) throw new Error("resolved above");
      const facts = runFacts(run);
      const explained = explainFilter(tree, facts, { sources: resolved.sources });
      expect(explained.matched).toBe(compileFilter(tree)(facts));
      expect(explained.root.source).toBe(text);
    }
  });
});
