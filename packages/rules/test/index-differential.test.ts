import { describe, expect, it } from "vitest";
import type { Run, RuleVersion } from "@runhooks/contracts";
import {
  applyRuleVersion,
  applyRuleVersions,
  createRuleBook,
  dropVersionsBefore,
  matchRun,
  type RuleBook,
  type RuleBookOptions,
} from "@runhooks/rules";
import { mulberry32 } from "../../../test/support/random.js";
import { buildIndexes } from "../src/rulebook/rule-book.js";
import { indexedCandidates } from "../src/rulebook/rule-index.js";

/**
 * The rule index (index-keys.ts) skips a rule only where its verdict would have been `false`: every
 * matching window, every "error" and every trace verdict is the same with and without it, over random
 * rule books and runs full of loose-equality traps, and over a table of those traps one by one.
 */

const TENANTS = ["t-a", "t-b", "t-c"];
const SESSIONS = ["11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"];

/** Values where JSON-logic's `==` surprises: numeric and empty strings, arrays, objects, null. */
const TRAPS: readonly unknown[] = [
  "llm",
  "chain",
  "error",
  "success",
  "1",
  "01",
  "",
  " ",
  "Infinity",
  "0x1",
  "true",
  "null",
  "[object Object]",
  "llm,chain",
  1,
  0,
  true,
  false,
  null,
  ["llm"],
  ["1"],
  [],
  [["llm"]],
  ["llm", "chain"],
  { a: 1 },
];

const FIELDS = ["run_type", "name", "status", "session_id", "metadata.env", "metadata.tier", "metadata.toString"];
const STRINGS = ["llm", "chain", "error", "success", "1", "", "Infinity", " ", "prod", "[object Object]", "llm,chain"];

class Gen {
  constructor(private readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A conjunct: mostly shapes the index keys on, with their traps, and some it cannot. */
  conjunct(): unknown {
    const field = this.pick(FIELDS);
    const value = this.chance(0.7) ? this.pick(STRINGS) : this.pick(TRAPS);
    switch (this.int(12)) {
      case 0:
      case 1:
      case 2:
        return this.chance(0.8) ? { "==": [{ var: field }, value] } : { "==": [value, { var: field }] };
      case 3:
        return { "===": [{ var: field }, value] };
      case 4:
        return { in: [{ var: field }, [this.pick(STRINGS), this.chance(0.8) ? this.pick(STRINGS) : this.pick(TRAPS)]] };
      case 5:
        return this.chance(0.5) ? { "!=": [{ var: field }, null] } : { "!==": [null, { var: field }] };
      case 6:
      case 7:
        return { in: [this.chance(0.9) ? this.pick(["prod", "beta", "", "1"]) : this.pick(TRAPS), { var: "tags" }] };
      case 8:
        return { "==": [{ var: [field, "llm"] }, "llm"] }; // a default stands in for a missing field
      case 9:
        return { ">": [{ var: "latency" }, this.int(3)] };
      case 10:
        return { or: [{ "==": [{ var: field }, value] }, { var: "has_error" }] };
      default:
        // Costs steps in proportion to the tags: runs the budget out on long arrays.
        return { some: [{ var: "tags" }, { "==": [{ var: "" }, "zzz"] }] };
    }
  }

  filter(): unknown {
    if (this.chance(0.1))
      return this.pick([
        'and(eq(run_type, "llm"), eq(status, "error"))',
        'has(tags, "prod")',
        'and(eq(name, "1"), eq(metadata_key, "env"))',
        'in(run_type, ["llm", "chain"])',
      ]);
    if (this.chance(0.03)) return 5; // a bare literal: invalid, answers "error"
    const n = 1 + this.int(4);
    const conjuncts = Array.from({ length: n }, () => this.conjunct());
    return n === 1 && this.chance(0.5) ? conjuncts[0] : { and: conjuncts };
  }

  rule(id: number, version: number): RuleVersion {
    const traceAware = this.chance(0.1);
    const traceFields = !traceAware
      ? {}
      : this.chance(0.5)
        ? { trace_filter: { "==": [{ var: "status" }, "error"] } }
        : { tree_filter: { "==": [{ var: "run_type" }, "llm"] } };
    return {
      schema_version: 1,
      kind: "rule",
      rule_id: `00000000-0000-4000-8000-${String(id).padStart(12, "0")}`,
      version,
      tenant_id: this.pick(TENANTS),
      session_id: this.chance(0.15) ? this.pick(SESSIONS) : null,
      enabled: this.chance(0.9),
      filter: this.filter() as RuleVersion["filter"],
      sampling_rate: this.chance(0.1) ? 0.5 : 1,
      window: { seconds: 5, max_runs: 100 },
      ...traceFields,
    };
  }

  field(): unknown {
    return this.chance(0.6) ? this.pick(STRINGS) : this.pick(TRAPS);
  }

  tags(): unknown {
    switch (this.int(9)) {
      case 0:
        return undefined;
      case 1:
        return null;
      case 2:
        return "prod-beta"; // a string: `in` searches it as text
      case 3:
        return Array.from({ length: 1100 }, (_, i) => (i === 1099 ? "prod" : `t${i}`)); // longer than indexed
      case 4:
        return ["1", 1, ["prod"], "beta"];
      case 5:
        return Array.from({ length: 50 }, (_, i) => (i === 49 && this.chance(0.5) ? "prod" : "y")); // past a tight budget
      default:
        return Array.from({ length: this.int(4) }, () => this.pick(["prod", "beta", "", "1", "x"]));
    }
  }

  metadata(): unknown {
    switch (this.int(8)) {
      case 0:
        return undefined;
      case 1:
        return null;
      case 2:
        return ["prod"]; // not an object: `metadata.0`, `metadata.length`
      case 3:
        return "prod";
      default: {
        const m: Record<string, unknown> = {};
        if (this.chance(0.7)) m["env"] = this.field();
        if (this.chance(0.5)) m["tier"] = this.field();
        if (this.chance(0.1)) m["toString"] = "x";
        return m;
      }
    }
  }

  run(i: number): Run {
    const fields: Record<string, unknown> = {
      id: `30000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      start_time: "2024-04-05T01:28:54.085Z",
      end_time: "2024-04-05T01:28:55.585Z",
      tenant_id: this.pick(TENANTS),
      error: this.chance(0.2) ? "boom" : null,
    };
    for (const f of ["run_type", "name", "status"]) if (this.chance(0.95)) fields[f] = this.field();
    if (this.chance(0.6)) fields["session_id"] = this.chance(0.8) ? this.pick(SESSIONS) : this.field();
    const tags = this.tags();
    if (tags !== undefined) fields["tags"] = tags;
    const metadata = this.metadata();
    if (metadata !== undefined || this.chance(0.5)) fields["extra"] = metadata === undefined ? {} : { metadata };
    if (this.chance(0.5)) fields["parent_run_id"] = "40000000-0000-4000-8000-000000000000";
    if (this.chance(0.3)) fields["is_root"] = this.chance(0.5);
    return fields as unknown as Run;
  }
}

interface Outcome {
  readonly matches: readonly string[];
  readonly errors: readonly string[];
  readonly traces: readonly string[];
}

function judge(book: RuleBook, run: Run, time: number): Outcome {
  const errors: string[] = [];
  const traces: string[] = [];
  const matches = matchRun(
    book,
    run,
    time,
    undefined,
    (spec, error) => errors.push(`${spec.ruleId}@${spec.ruleVersion}: ${error}`),
    (v) => traces.push(JSON.stringify(v)),
  ).map((s) => `${s.ruleId}@${s.ruleVersion}`);
  return { matches, errors, traces };
}

/** Budgets the random filters never reach together: the run's budget is the one documented difference. */
const OPTIONS: RuleBookOptions = { runSteps: Number.MAX_SAFE_INTEGER };

function books(options: RuleBookOptions): [RuleBook, RuleBook] {
  return [createRuleBook({ ...OPTIONS, ...options }), createRuleBook({ ...OPTIONS, ...options, index: false })];
}

describe("the rule index against every rule tested", () => {
  it.each([
    { seed: 1, filterSteps: undefined },
    { seed: 2, filterSteps: undefined },
    { seed: 3, filterSteps: 40 }, // tight budgets: the conditions on the conjuncts before the key
    { seed: 4, filterSteps: 1030 }, // a tag conjunct alone fits; two do not
  ])("gives the same verdicts over random rule books (seed $seed)", ({ seed, filterSteps }) => {
    const g = new Gen(mulberry32(0x1dec5 + seed));
    let compared = 0;
    let skipped = 0;
    for (let b = 0; b < 40; b++) {
      const [indexed, plain] = books(filterSteps === undefined ? {} : { filterSteps });
      const versions = new Map<number, number>();
      const apply = (time: number) => {
        const id = g.int(60);
        const version = (versions.get(id) ?? 0) + 1;
        versions.set(id, version);
        const rule = g.chance(0.05) ? null : g.rule(id, version);
        for (const book of [indexed, plain]) {
          applyRuleVersion(book, {
            ruleId: `00000000-0000-4000-8000-${String(id).padStart(12, "0")}`,
            rule,
            effectiveFrom: time,
          });
        }
      };
      for (let r = 0; r < 50; r++) apply(0);
      for (let r = 0; r < 15; r++) apply(100 + r * 10);
      for (let i = 0; i < 250; i++) {
        const run = g.run(i);
        const time = g.pick([0, 50, 120, 175, 1000]);
        const plainOutcome = judge(plain, run, time);
        expect(judge(indexed, run, time), JSON.stringify(run).slice(0, 400)).toEqual(plainOutcome);
        compared++;
        const index = indexed.indexByTenant!.get(run.tenant_id);
        if (index !== undefined)
          skipped += (plain.byTenant.get(run.tenant_id)?.length ?? 0) - indexedCandidates(index, run).length;
      }
    }
    expect(compared).toBe(40 * 250);
    // The index does skip rules (a test that compared two unindexed books would pass too).
    expect(skipped).toBeGreaterThan(compared);
  });
});

describe("the rule index between changes", () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    "gives the same verdicts when runs are judged between versions, moves, deletions and drops (seed %i)",
    (seed) => {
      // A tenant's index is built at its first run after a change: runs judged between changes catch
      // a change that fails to mark a tenant's index (a rule moved away, deleted, versions dropped).
      const g = new Gen(mulberry32(0xabc + seed));
      let compared = 0;
      let fromTable = 0;
      for (let b = 0; b < 30; b++) {
        const [indexed, plain] = books({});
        const versions = new Map<number, number>();
        let now = 0;
        let floor = 0;
        const message = (time: number) => {
          const id = g.int(25);
          const version = (versions.get(id) ?? 0) + 1;
          versions.set(id, version);
          const rule = g.chance(0.1) ? null : g.rule(id, version);
          return { ruleId: `00000000-0000-4000-8000-${String(id).padStart(12, "0")}`, rule, effectiveFrom: time };
        };
        for (let step = 0; step < 120; step++) {
          const k = g.int(10);
          if (k < 3) {
            now += g.int(3) * 10;
            const batch = Array.from({ length: 1 + g.int(5) }, () => message(now));
            for (const book of [indexed, plain]) applyRuleVersions(book, batch);
          } else if (k === 3) {
            floor += g.int(Math.max(1, now - floor + 1));
            expect(dropVersionsBefore(indexed, floor)).toBe(dropVersionsBefore(plain, floor));
          } else {
            const run = g.run(step);
            const time = floor + g.int(now - floor + 30);
            expect(judge(indexed, run, time), `book ${b}, step ${step}`).toEqual(judge(plain, run, time));
            compared++;
            const plainVersions = indexed.indexByTenant!.get(run.tenant_id)?.hot;
            fromTable += plainVersions?.from.filter((from) => from <= time).length ?? 0;
          }
        }
      }
      expect(compared).toBeGreaterThan(1000);
      // Runs were judged from the tenants' tables of plain versions, not only on the general path.
      expect(fromTable).toBeGreaterThan(100);
    },
  );
});

const TENANT = "t-a";
const rule = (n: number, filter: unknown, extra: Partial<RuleVersion> = {}): RuleVersion => ({
  schema_version: 1,
  kind: "rule",
  rule_id: `00000000-0000-4000-8000-00000000000${n}`,
  version: 1,
  tenant_id: TENANT,
  session_id: null,
  enabled: true,
  filter: filter as RuleVersion["filter"],
  sampling_rate: 1,
  window: { seconds: 5, max_runs: 100 },
  ...extra,
});
const run = (fields: Record<string, unknown>): Run => ({
  id: "30000000-0000-4000-8000-000000000001",
  name: "ChatOpenAI",
  run_type: "chain",
  start_time: "2024-04-05T01:28:54.085Z",
  end_time: "2024-04-05T01:28:55.085Z",
  tenant_id: TENANT,
  ...fields,
});

describe("the rule index on loose equality's edge cases", () => {
  const cases: readonly { name: string; filter: unknown; run: Record<string, unknown>; matches: boolean }[] = [
    {
      name: '"1" == 1: a numeric key is never indexed',
      filter: { "==": [{ var: "name" }, "1"] },
      run: { name: 1 },
      matches: true,
    },
    { name: '"" == 0', filter: { "==": [{ var: "status" }, ""] }, run: { status: 0 }, matches: true },
    { name: '"" == []', filter: { "==": [{ var: "status" }, ""] }, run: { status: [] }, matches: true },
    {
      name: '["llm"] == "llm"',
      filter: { "==": [{ var: "run_type" }, "llm"] },
      run: { run_type: ["llm"] },
      matches: true,
    },
    {
      name: '[["llm"]] == "llm"',
      filter: { "==": [{ var: "run_type" }, "llm"] },
      run: { run_type: [["llm"]] },
      matches: true,
    },
    {
      name: "an object's text",
      filter: { "==": [{ var: "name" }, "[object Object]"] },
      run: { name: { a: 1 } },
      matches: true,
    },
    { name: "=== is strict", filter: { "===": [{ var: "name" }, "1"] }, run: { name: 1 }, matches: false },
    { name: "=== on a string", filter: { "===": [{ var: "name" }, "1"] }, run: { name: "1" }, matches: true },
    {
      name: "null never equals a key",
      filter: { "==": [{ var: "status" }, "error"] },
      run: { status: null },
      matches: false,
    },
    { name: "a missing field", filter: { "==": [{ var: "status" }, "error"] }, run: {}, matches: false },
    { name: "a default stands in", filter: { "==": [{ var: ["status", "error"] }, "error"] }, run: {}, matches: true },
    { name: "present", filter: { "!=": [{ var: "status" }, null] }, run: { status: 0 }, matches: true },
    { name: "absent", filter: { "!=": [{ var: "status" }, null] }, run: { status: null }, matches: false },
    { name: "present, an array", filter: { "!=": [{ var: "status" }, null] }, run: { status: [] }, matches: true },
    { name: "a tag", filter: { in: ["prod", { var: "tags" }] }, run: { tags: ["prod"] }, matches: true },
    { name: "tags as text", filter: { in: ["prod", { var: "tags" }] }, run: { tags: "production" }, matches: true },
    { name: "an empty tag in text", filter: { in: ["", { var: "tags" }] }, run: { tags: "x" }, matches: true },
    { name: "a tag is strict", filter: { in: ["1", { var: "tags" }] }, run: { tags: [1] }, matches: false },
    {
      name: "a tag past the indexed length (the budget runs out: an error either way)",
      filter: { in: ["prod", { var: "tags" }] },
      run: { tags: [...Array.from({ length: 1100 }, (_, i) => `t${i}`), "prod"] },
      matches: false,
    },
    {
      name: "in a list is strict",
      filter: { in: [{ var: "run_type" }, ["1", "llm"]] },
      run: { run_type: 1 },
      matches: false,
    },
    { name: "in a list", filter: { in: [{ var: "run_type" }, ["1", "llm"]] }, run: { run_type: "llm" }, matches: true },
    {
      name: "metadata",
      filter: { "==": [{ var: "metadata.env" }, "prod"] },
      run: { extra: { metadata: { env: "prod" } } },
      matches: true,
    },
    {
      name: "metadata as an array",
      filter: { "==": [{ var: "metadata.env" }, "prod"] },
      run: { extra: { metadata: { env: ["prod"] } } },
      matches: true,
    },
    {
      name: "metadata that is a string",
      filter: { "!=": [{ var: "metadata.length" }, null] },
      run: { extra: { metadata: "abc" } },
      matches: true,
    },
    {
      name: "an inherited name is never a key",
      filter: { "!=": [{ var: "metadata.toString" }, null] },
      run: {},
      matches: true,
    },
    { name: "no metadata", filter: { "==": [{ var: "metadata.env" }, "prod"] }, run: { extra: null }, matches: false },
    {
      name: "a budget spent before the key",
      filter: { and: [{ some: [{ var: "tags" }, { "==": [{ var: "" }, "x"] }] }, { "==": [{ var: "name" }, "zzz"] }] },
      run: { tags: Array.from({ length: 200 }, () => "y") },
      matches: false,
    },
    {
      name: "LangSmith's strings",
      filter: 'and(eq(run_type, "llm"), has(tags, "prod"))',
      run: { run_type: "llm", tags: ["prod"] },
      matches: true,
    },
    {
      name: "a session",
      filter: { "==": [{ var: "status" }, "error"] },
      run: { session_id: SESSIONS[0], status: "error" },
      matches: true,
    },
  ];

  it.each(cases)("$name", ({ filter, run: fields, matches }) => {
    const [indexed, plain] = books({ filterSteps: 100 });
    const session = fields["session_id"] === undefined ? null : SESSIONS[0]!;
    for (const book of [indexed, plain]) {
      applyRuleVersion(book, {
        ruleId: rule(1, filter).rule_id,
        rule: rule(1, filter, { session_id: session }),
        effectiveFrom: 0,
      });
      // A rule the run cannot match, so the index has another list to leave out.
      applyRuleVersion(book, {
        ruleId: rule(2, {}).rule_id,
        rule: rule(2, { "==": [{ var: "name" }, "zzz"] }),
        effectiveFrom: 0,
      });
    }
    const r = run(fields);
    const expected = judge(plain, r, 1);
    expect(judge(indexed, r, 1)).toEqual(expected);
    expect(expected.matches).toHaveLength(matches ? 1 : 0);
  });
});

describe("dropVersionsBefore", () => {
  it("keeps every version a run at or after the time can be judged by, and its index keys", () => {
    const book = createRuleBook();
    const apply = (n: number, version: number, filter: unknown, at: number) =>
      applyRuleVersion(book, {
        ruleId: rule(n, filter).rule_id,
        rule: rule(n, filter, { version }),
        effectiveFrom: at,
      });
    apply(1, 1, { "==": [{ var: "name" }, "old"] }, 0);
    apply(1, 2, { "==": [{ var: "name" }, "middle"] }, 100);
    apply(1, 3, { "==": [{ var: "name" }, "new"] }, 200);
    const at = (name: string, time: number) => judge(book, run({ name }), time).matches;
    expect(at("old", 50)).toEqual(["00000000-0000-4000-8000-000000000001@1"]);

    expect(dropVersionsBefore(book, 150)).toBe(1);
    expect(book.rules.get(rule(1, {}).rule_id)!.entries.map((e) => e.version)).toEqual([2, 3]);
    expect(at("middle", 150)).toEqual(["00000000-0000-4000-8000-000000000001@2"]);
    expect(at("new", 250)).toEqual(["00000000-0000-4000-8000-000000000001@3"]);
    // The dropped version's key is gone: a run named "old" reaches no rule.
    const index = book.indexByTenant!.get(TENANT)!;
    expect(indexedCandidates(index, run({ name: "old" }))).toEqual([]);
    expect(indexedCandidates(index, run({ name: "middle" }))).toHaveLength(1);
    // A re-published older version is still stale.
    expect(apply(1, 1, { "==": [{ var: "name" }, "old"] }, 300).kind).toBe("stale");
    expect(dropVersionsBefore(book, 150)).toBe(0);
  });
});

describe("a run's candidates", () => {
  /** Rule n of the tenant, its id ordered by n (ids are compared as strings). */
  const ruleN = (n: number, filter: unknown): RuleVersion => ({
    ...rule(0, filter),
    rule_id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
  });
  const kinds = [
    { "==": [{ var: "total_cost" }, 1] }, // broad
    { "==": [{ var: "name" }, "a"] },
    { "==": [{ var: "run_type" }, "llm"] },
    { in: ["t1", { var: "tags" }] },
    { "==": [{ var: "metadata.env" }, "prod"] },
    { and: [{ "==": [{ var: "name" }, "a"] }, { in: ["t2", { var: "tags" }] }] },
    { "==": [{ var: "name" }, "b"] }, // never probed below
  ];

  it.each([
    { rules: 7, name: "a few lists, merged by insertion" },
    { rules: 140, name: "more than 32 candidates, merged by sort" },
  ])("come in rule id order, each once, from every list they are in ($name)", ({ rules }) => {
    const book = createRuleBook();
    // Applied in an order unrelated to their ids; each batch rebuilds the lists.
    const order = Array.from({ length: rules }, (_, i) => (i * 37) % rules);
    for (const n of order) {
      const version = ruleN(n, kinds[n % kinds.length]);
      applyRuleVersion(book, { ruleId: version.rule_id, rule: version, effectiveFrom: 0 });
    }
    const probe = run({
      name: "a",
      run_type: "llm",
      tags: ["t1", "t2", "t1"],
      extra: { metadata: { env: "prod" } },
    });
    buildIndexes(book);
    const index = book.indexByTenant!.get(TENANT)!;
    const ids = indexedCandidates(index, probe).map((at) => index.rules[at]!.ruleId);
    const expected = order
      .filter((n) => n % kinds.length !== kinds.length - 1)
      .sort((a, b) => a - b)
      .map((n) => ruleN(n, {}).rule_id);
    expect(ids).toEqual(expected);
  });
});
