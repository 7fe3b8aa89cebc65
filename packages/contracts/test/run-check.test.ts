import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Run, isParsedRun, isParsedRunPatch } from "@runhooks/contracts";
import { mulberry32 } from "../../../test/support/random.js";

const seedRun = (
  JSON.parse(readFileSync(new URL("./fixtures/seed-payload.json", import.meta.url), "utf8")) as {
    runs: Record<string, unknown>[];
  }
).runs[0]!;

/** Values that are right for some field and wrong for others, so every check gets both. */
const CANDIDATES: unknown[] = [
  null,
  0,
  -1,
  1.5,
  7,
  -0,
  "",
  "x",
  "error",
  "0.0012",
  "1e-5",
  "12.",
  true,
  false,
  [],
  ["6ab80f10-d79c-4fa2-b441-922ed6feb630"],
  ["6ab80f10-d79c-4fa2-b441-922ed6feb630", "nope"],
  ["a", "b"],
  [1],
  {},
  { metadata: { env: "prod" } },
  { nested: [1, { deep: null }] },
  "6ab80f10-d79c-4fa2-b441-922ed6feb630",
  "6AB80F10-D79C-4FA2-B441-922ED6FEB630",
  "6ab80f10-d79c-4fa2-b441-922ed6feb63",
  "6ab80f10-d79c-4fa2-b441-922ed6feb630x",
  "6ab80f10d79c-4fa2-b441-922ed6feb6300",
  "6ab80f10-d79c-4fa2-b441-922ed6feb63g",
  "gab80f10-d79c-4fa2-b441-922ed6feb630",
  "6ab80f10-d79c-4fa2-b441_922ed6feb630",
  "00000000-0000-0000-0000-000000000000",
  "2024-04-05T01:28:54.085649",
  "2024-04-05T01:28:54.734491+00:00",
  "2024-04-05T01:28:54Z",
  "2024-04-05T01:28",
  "2024-02-30T01:28:54Z",
  "2024-04-05 01:28:54",
  "yesterday",
];
const RunPatch = Run.partial();
const FIELDS = [...Object.keys(seedRun), "schema_version", "tags", "reference_example_id", "unknown_field"];

/** `count` random mutations of a run's fields: a field deleted, or set to a candidate value. */
function mutate(run: Record<string, unknown>, count: number, random: () => number): void {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  for (let m = 0; m < count; m++) {
    const field = pick(FIELDS);
    const roll = random();
    if (roll < 0.15) delete run[field];
    else if (roll < 0.3 && field === "schema_version") run[field] = pick([1, 2, "1"]);
    else run[field] = pick(CANDIDATES);
  }
}

/**
 * The fast check and the schema agree on 20,000 generated values, each through a JSON round trip (what
 * the check is for), and both outcomes are well represented, or the agreement would mean little.
 */
function agreeOn20k(
  seed: number,
  fast: (value: unknown) => boolean,
  schema: { safeParse(value: unknown): { success: boolean } },
  make: (random: () => number) => Record<string, unknown>,
): void {
  const random = mulberry32(seed);
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    const json = JSON.parse(JSON.stringify(make(random))) as unknown;
    const expected = schema.safeParse(json).success;
    if (expected) accepted++;
    expect(fast(json), JSON.stringify(json)).toBe(expected);
  }
  expect(accepted).toBeGreaterThan(2000);
  expect(accepted).toBeLessThan(18_000);
}

describe("the fast run check", () => {
  it("accepts LangSmith's run", () => {
    expect(isParsedRun(seedRun)).toBe(true);
  });

  it("agrees with the zod schema on 20,000 mutated JSON runs", () => {
    agreeOn20k(7, isParsedRun, Run, (random) => {
      const run: Record<string, unknown> = { ...seedRun };
      mutate(run, 1 + Math.floor(random() * 3), random);
      return run;
    });
  });

  it.each([null, [], "run", 3])("refuses a non-object: %j", (value) => {
    expect(isParsedRun(value)).toBe(false);
    expect(Run.safeParse(value).success).toBe(false);
    expect(isParsedRunPatch(value)).toBe(false);
    expect(RunPatch.safeParse(value).success).toBe(false);
  });

  it("agrees with Run.partial() on 20,000 mutated JSON updates, required fields absent or not", () => {
    agreeOn20k(8, isParsedRunPatch, RunPatch, (random) => {
      // An update carries a few of the run's fields (the SDK's patch: end_time, outputs, error…).
      const run: Record<string, unknown> = {};
      for (const field of Object.keys(seedRun)) if (random() < 0.4) run[field] = seedRun[field];
      mutate(run, Math.floor(random() * 3), random);
      return run;
    });
  });
});
