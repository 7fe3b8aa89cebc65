import { describe, expect, it } from "vitest";
import type { Run, RuleVersion } from "@runhooks/contracts";
import {
  applyRuleVersion,
  applyRuleVersions,
  createRuleBook,
  matchRun,
  type RuleBook,
  type RuleVersionMessage,
} from "@runhooks/rules";
import { mulberry32 } from "../../../test/support/random.js";
import { buildIndexes } from "../src/rulebook/rule-book.js";

/**
 * A start applies the rules topic a fetch at a time (`applyRuleVersions`): the book must end as if
 * each message had been applied alone, in order — the same timelines, tenant lists, index lists,
 * slots and budgets, and so the same verdicts — whatever the batches' bounds.
 */

const TENANTS = ["11111111-0000-4000-8000-00000000000a", "11111111-0000-4000-8000-00000000000b"];
const SESSION = "22222222-0000-4000-8000-000000000001";
const FILTERS: readonly unknown[] = [
  { "==": [{ var: "run_type" }, "llm"] },
  { and: [{ "==": [{ var: "status" }, "error"] }, { in: ["prod", { var: "tags" }] }] },
  { in: [{ var: "name" }, ["a", "b"]] },
  { ">": [{ var: "latency" }, 1] },
  { "!=": [{ var: "metadata.env" }, null] },
  'and(eq(run_type, "llm"), eq(status, "error"))',
  5, // a bare literal: invalid, the version matches nothing
];

const ruleId = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

/** A log of the rules topic: new versions, re-published and older ones, tombstones, tenant moves. */
function rulesLog(seed: number, length: number): RuleVersionMessage[] {
  const random = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const versions = new Map<number, number>();
  return Array.from({ length }, (_, i): RuleVersionMessage => {
    const n = Math.floor(random() * 25);
    const effectiveFrom = 100 * Math.floor(i / 7);
    if (random() < 0.08) return { ruleId: ruleId(n), rule: null, effectiveFrom };
    const latest = versions.get(n) ?? 0;
    const version = random() < 0.1 ? Math.max(1, latest) : latest + 1; // sometimes re-published
    versions.set(n, Math.max(latest, version));
    const traced = random() < 0.15;
    const rule: RuleVersion = {
      schema_version: 1,
      kind: "rule",
      rule_id: ruleId(n),
      version,
      tenant_id: pick(TENANTS),
      session_id: random() < 0.1 ? SESSION : null,
      enabled: random() < 0.9,
      filter: pick(FILTERS) as RuleVersion["filter"],
      ...(traced ? { tree_filter: pick(FILTERS) as RuleVersion["filter"] } : {}),
      sampling_rate: random() < 0.1 ? 0.5 : 1,
      window: { seconds: 1 + Math.floor(random() * 60), max_runs: 100 },
    };
    return { ruleId: ruleId(n), rule, effectiveFrom };
  });
}

/** Entries of a map by key: the order a map's entries were made in is read by no verdict. */
const byKey = <K, V>(entries: Iterable<readonly [K, V]>): [string, V][] =>
  [...entries].map(([k, v]): [string, V] => [String(k), v]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** Everything the book holds, compiled filters by their slot and message (functions differ per book). */
function contents(book: RuleBook): unknown {
  // The lists as the next run would find them.
  buildIndexes(book);
  const ids = (ts: readonly { readonly ruleId: string }[]) => ts.map((t) => t.ruleId);
  return {
    rules: byKey(book.rules).map(([id, t]) => [
      id,
      t.entries.map(({ filter, trace, ...entry }) => ({
        ...entry,
        filter: filter && { slot: filter.slot, error: filter.errorMessage },
        trace: trace && {
          spec: trace.spec,
          traceFilter: trace.traceFilter?.slot,
          treeFilter: trace.treeFilter?.slot,
        },
      })),
    ]),
    byTenant: byKey(book.byTenant).map(([tenant, ts]) => [tenant, ids(ts)]),
    index: byKey(book.indexByTenant ?? []).map(([tenant, index]) => {
      // The lists hold positions in the tenant's rules (in id order): the rules they name.
      const named = (at: readonly number[]) => ids(at.map((i) => index.rules[i]!));
      return [
        tenant,
        {
          rules: ids(index.rules),
          broad: named(index.broad),
          root: named(index.root),
          fields: byKey(index.fields).map(([field, lists]) => [
            field,
            byKey(lists.byValue).map(([value, at]) => [value, named(at)]),
            named(lists.present),
            named(lists.all),
          ]),
          keys: byKey([...index.keysOf].map(([t, keys]) => [t.ruleId, keys] as const)),
        },
      ];
    }),
    factsRead: byKey(book.factsReadByTenant),
    longestWindowMs: book.longestWindowMs,
    longestHorizonMs: book.longestHorizonMs,
    lastTraceRule: byKey(book.lastTraceRule),
    filterSlots: [...book.filterSlots],
  };
}

const run = (i: number, fields: Partial<Run>): Run => ({
  id: `30000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
  name: "a",
  run_type: "llm",
  status: "error",
  start_time: "2024-04-05T01:28:54.085Z",
  end_time: "2024-04-05T01:28:56.085Z",
  tenant_id: TENANTS[i % 2]!,
  tags: ["prod"],
  ...fields,
});

describe("applying the rules topic in batches", () => {
  it.each([1, 2, 3])("ends with the book of one message at a time (seed %i)", (seed) => {
    const log = rulesLog(seed, 400);
    const one = createRuleBook();
    const outcomesOne = log.map((m) => applyRuleVersion(one, m));
    const random = mulberry32(seed + 100);
    const batched = createRuleBook();
    const outcomesBatched = [];
    for (let from = 0; from < log.length;) {
      const size = random() < 0.2 ? log.length : 1 + Math.floor(random() * 40);
      outcomesBatched.push(...applyRuleVersions(batched, log.slice(from, from + size)));
      from += size;
    }
    expect(outcomesBatched).toEqual(outcomesOne);
    expect(contents(batched)).toEqual(contents(one));
    // Some of everything happened, or the comparison would say little.
    const kinds = new Set(outcomesOne.map((o) => o.kind));
    expect([...kinds].sort()).toEqual(["applied", "deleted", "invalid_filter", "stale"]);

    const verdicts = (book: RuleBook) =>
      Array.from({ length: 60 }, (_, i) => {
        const errors: string[] = [];
        const traces: string[] = [];
        const r = run(i, i % 3 === 0 ? { run_type: "chain", session_id: SESSION } : {});
        const windows = matchRun(
          book,
          r,
          100 * (i % 60),
          undefined,
          (spec, error) => errors.push(`${spec.ruleId}: ${error}`),
          (v) => traces.push(JSON.stringify(v)),
        );
        return { windows: windows.map((w) => `${w.ruleId}@${w.ruleVersion}`), errors, traces };
      });
    const expected = verdicts(one);
    expect(verdicts(batched)).toEqual(expected);
    expect(expected.some((v) => v.windows.length > 0)).toBe(true);
  });

  it("applies nothing for an empty batch", () => {
    const book = createRuleBook();
    expect(applyRuleVersions(book, [])).toEqual([]);
    expect(book.rules.size).toBe(0);
  });
});
