import { describe, expect, it } from "vitest";
import type { Run } from "@runhooks/contracts";
import {
  CHARS_PER_STEP,
  DEFAULT_COST_LIMITS,
  compileFilter,
  filterCost,
  runFacts,
  validateFilter,
} from "@runhooks/rules";
import { mulberry32 } from "../../../test/support/random.js";
import { FilterGen, Gen, generateRun } from "./filter/generate.js";

const CASES = 6_000;
const D = DEFAULT_COST_LIMITS.dataLength;

/**
 * Sometimes fills the run's arrays and a string up to the cost model's assumption: a value read from
 * the run coerces in at most `dataLength` steps (an array of dataLength - 1 short elements, a string
 * of (dataLength - 1) × CHARS_PER_STEP characters).
 */
function widen(g: Gen, run: Run): Run {
  if (!g.chance(0.3)) return run;
  const fill = (n: number) =>
    Array.from({ length: n }, (_, i) => g.pick(["prod", "beta", String(i), "x".repeat(g.int(0, CHARS_PER_STEP - 1))]));
  const wide = structuredClone(run) as Run & Record<string, unknown>;
  wide.tags = fill(D - 1);
  wide.parent_run_ids = fill(g.int(0, D - 1));
  wide.inputs = { question: "q".repeat(g.int(0, (D - 1) * CHARS_PER_STEP)) };
  const extra = (wide.extra ?? {}) as Record<string, unknown>;
  extra["metadata"] = { ...(extra["metadata"] ?? {}), region: fill(D - 1) };
  wide.extra = extra as Run["extra"];
  return wide;
}

describe("filters the validator accepts never run out of budget on runs within its assumption (property)", () => {
  const g = new Gen(mulberry32(0xb0d9_e7));
  const filters = new FilterGen(g);
  const cases: { filter: unknown; facts: Record<string, unknown> }[] = [];
  let refused = 0;
  while (cases.length < CASES) {
    const filter = filters.filter(g.int(2, 7));
    if (!validateFilter(filter).ok) {
      refused += 1;
      continue;
    }
    cases.push({ filter, facts: runFacts(widen(g, generateRun(g))) });
  }

  it(`over ${CASES} accepted (filter, run) pairs: no "error", and the steps charged stay within the static bound`, () => {
    const over: string[] = [];
    let maxSteps = 0;
    for (const { filter, facts } of cases) {
      const valid = validateFilter(filter);
      if (!valid.ok) throw new Error("accepted above");
      const bound = filterCost(filter);
      const compiled = compileFilter(valid.value);
      const verdict = compiled(facts);
      maxSteps = Math.max(maxSteps, compiled.lastSteps);
      if (verdict === "error" || compiled.lastSteps > bound.steps) {
        over.push(
          `${JSON.stringify(filter)}: ${String(verdict)} after ${compiled.lastSteps} steps, bound ${bound.steps}`,
        );
      }
    }
    expect(over.slice(0, 5)).toEqual([]);
    // The generator reaches deep enough that some filters are refused, and real work is charged.
    expect(refused).toBeGreaterThan(0);
    expect(maxSteps).toBeGreaterThan(100);
  });

  it("gives the same verdict and the same step count on every re-evaluation (replay)", () => {
    const differ: string[] = [];
    for (const { filter, facts } of cases) {
      const valid = validateFilter(filter);
      if (!valid.ok) continue;
      const first = compileFilter(valid.value);
      const verdict = first(facts);
      const steps = first.lastSteps;
      const again = compileFilter(valid.value);
      const replays = [first(facts), again(structuredClone(facts)), first(facts)];
      const replaySteps = [first.lastSteps, again.lastSteps];
      if (replays.some((v) => v !== verdict) || replaySteps.some((s) => s !== steps))
        differ.push(JSON.stringify(filter));
    }
    expect(differ.slice(0, 5)).toEqual([]);
  });

  it("gives the same verdict under a small budget on every re-evaluation, error included", () => {
    let errors = 0;
    for (const { filter, facts } of cases.slice(0, 2000)) {
      const valid = validateFilter(filter);
      if (!valid.ok) continue;
      const tight = compileFilter(valid.value, { maxSteps: 20 });
      const verdict = tight(facts);
      if (verdict === "error") errors += 1;
      expect(compileFilter(valid.value, { maxSteps: 20 })(facts)).toBe(verdict);
      expect(tight(facts)).toBe(verdict);
    }
    expect(errors).toBeGreaterThan(0);
  });
});
