import { describe, expect, it } from "vitest";
import { RuleVersion, isParsedRuleVersion } from "@runhooks/contracts";
import { mulberry32 } from "../../../test/support/random.js";

const seed: Record<string, unknown> = {
  schema_version: 1,
  kind: "rule",
  rule_id: "6ab80f10-d79c-4fa2-b441-922ed6feb630",
  version: 3,
  tenant_id: "2ebda79f-2c6b-4b5c-9d55-1c1f43a2ad11",
  session_id: null,
  enabled: true,
  filter: { and: [{ "==": [{ var: "run_type" }, "llm"] }, { in: ["prod", { var: "tags" }] }] },
  sampling_rate: 1,
  window: { seconds: 5, max_runs: 100 },
};

/** Values that are right for some field and wrong for others, so every check gets both. */
const CANDIDATES: unknown[] = [
  null,
  0,
  -0,
  1,
  2,
  -1,
  0.5,
  1.5,
  3600,
  3601,
  10_000,
  10_001,
  2 ** 53,
  2 ** 53 - 1,
  "",
  "rule",
  "run",
  'eq(run_type, "llm")',
  true,
  false,
  [],
  [1, "a", null, [true]],
  {},
  { seconds: 5, max_runs: 100 },
  { seconds: 5 },
  { seconds: 0, max_runs: 1 },
  { seconds: 5, max_runs: 100, extra: 1 },
  { seconds: 1.5, max_runs: 1 },
  { "==": [{ var: "status" }, "error"] },
  { deep: [{ deeper: { deepest: [1, 2, { x: null }] } }] },
  "6ab80f10-d79c-4fa2-b441-922ed6feb630",
  "6AB80F10-D79C-4FA2-B441-922ED6FEB630",
  "6ab80f10-d79c-4fa2-b441-922ed6feb63",
  "6ab80f10-d79c-4fa2-b441-922ed6feb63g",
  "6ab80f10d79c-4fa2-b441-922ed6feb6300",
];
const FIELDS = [...Object.keys(seed), "trace_filter", "tree_filter", "trace_horizon_seconds", "webhooks", "id"];

function mutate(rule: Record<string, unknown>, count: number, random: () => number): void {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  for (let m = 0; m < count; m++) {
    const field = pick(FIELDS);
    const roll = random();
    if (roll < 0.15) delete rule[field];
    else if (roll < 0.3 && field === "schema_version") rule[field] = pick([1, 2, "1"]);
    else if (roll < 0.3 && field === "window")
      rule[field] = { ...(seed["window"] as object), [pick(["seconds", "max_runs"])]: pick(CANDIDATES) };
    else rule[field] = pick(CANDIDATES);
  }
}

describe("the fast rule version check", () => {
  it("accepts a rule version as the API writes it, with and without the trace-aware fields", () => {
    expect(isParsedRuleVersion(seed)).toBe(true);
    const traced = {
      ...seed,
      trace_filter: { var: "has_error" },
      tree_filter: 'eq(status, "error")',
      trace_horizon_seconds: 60,
    };
    expect(isParsedRuleVersion(traced)).toBe(true);
    expect(RuleVersion.parse(traced)).toEqual(traced);
  });

  it("agrees with the schema on 20,000 mutated JSON versions, and returns what the schema would", () => {
    const random = mulberry32(22);
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const rule = { ...seed };
      mutate(rule, 1 + Math.floor(random() * 3), random);
      const json = JSON.parse(JSON.stringify(rule)) as unknown;
      const parsed = RuleVersion.safeParse(json);
      if (parsed.success) accepted++;
      expect(isParsedRuleVersion(json), JSON.stringify(json)).toBe(parsed.success);
      if (parsed.success) expect(json).toEqual(parsed.data);
    }
    expect(accepted).toBeGreaterThan(2000);
    expect(accepted).toBeLessThan(18_000);
  });

  it.each([null, [], "rule", 3, undefined])("refuses a non-object: %j", (value) => {
    expect(isParsedRuleVersion(value)).toBe(false);
    expect(RuleVersion.safeParse(value).success).toBe(false);
  });

  it("leaves a filter with a __proto__ key to the schema, which drops the key", () => {
    const json = JSON.parse(JSON.stringify(seed).replace('"filter":{', '"filter":{"__proto__":{"x":1},')) as unknown;
    expect(isParsedRuleVersion(json)).toBe(false);
    const parsed = RuleVersion.parse(json);
    expect(Object.hasOwn(parsed.filter as object, "__proto__")).toBe(false);
  });

  it("leaves a key holding undefined to the schema", () => {
    expect(isParsedRuleVersion({ ...seed, trace_filter: undefined })).toBe(false);
  });
});
