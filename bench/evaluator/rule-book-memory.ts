// The rule book's memory per rule version: 100,000 alerting rules over 10,000 tenants (the shapes of
// bench:evaluator-scale) applied to one book, parsed from JSON as the evaluator reads them, the heap
// measured after a full collection before and after. No Kafka.
//
//   node --expose-gc --conditions=source --import tsx bench/evaluator/rule-book-memory.ts
//   BENCH_RULES=100000 BENCH_VERSIONS=3 …   (rules; versions of each, applied one after the other)
import { randomUUID } from "node:crypto";
import { RuleVersion } from "@runhooks/contracts";
import { applyRuleVersion, createRuleBook } from "@runhooks/rules";

const RULES = Number(process.env["BENCH_RULES"] ?? 100_000);
const VERSIONS = Number(process.env["BENCH_VERSIONS"] ?? 1);
const TENANTS = Array.from({ length: Math.max(1, RULES / 10) }, () => randomUUID());
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc");

function filter(k: number): unknown {
  switch (k % 5) {
    case 0:
      return { and: [{ "==": [{ var: "run_type" }, "llm"] }, { "==": [{ var: "status" }, "error"] }] };
    case 1:
      return { and: [{ "==": [{ var: "run_type" }, "chain"] }, { ">": [{ var: "latency" }, 6.9 + (k % 3) * 0.01] }] };
    case 2:
      return { ">": [{ var: "total_cost" }, 0.00398 - (k % 10) * 0.000001] };
    case 3:
      return { and: [{ var: "has_error" }, { in: [`tag-${k % 20}`, { var: "tags" }] }] };
    default:
      return {
        and: [{ "==": [{ var: "metadata.env" }, "prod"] }, { "==": [{ var: "metadata.customer" }, `c-${k % 50}`] }],
      };
  }
}

const ids = Array.from({ length: RULES }, () => randomUUID());
const messages: string[] = [];
for (let v = 1; v <= VERSIONS; v++)
  for (const [i, id] of ids.entries())
    messages.push(
      JSON.stringify({
        schema_version: 1,
        kind: "rule",
        rule_id: id,
        version: v,
        tenant_id: TENANTS[i % TENANTS.length],
        session_id: null,
        enabled: true,
        filter: filter(Math.floor(i / TENANTS.length) + v),
        sampling_rate: 1,
        window: { seconds: 5, max_runs: 100 },
      }),
    );
gc();
const before = process.memoryUsage().heapUsed;
const book = createRuleBook();
const began = performance.now();
let time = 0;
for (const text of messages) {
  const rule = RuleVersion.parse(JSON.parse(text));
  applyRuleVersion(book, { ruleId: rule.rule_id, rule, effectiveFrom: time++ });
}
const applySeconds = (performance.now() - began) / 1000;
gc();
const after = process.memoryUsage().heapUsed;
const versions = RULES * VERSIONS;
console.log(
  `${RULES} rules × ${VERSIONS} version(s) over ${TENANTS.length} tenants: ${((after - before) / 2 ** 20).toFixed(1)} MiB of heap, ` +
    `${((after - before) / versions).toFixed(0)} bytes per version (${book.filterSlots.size} distinct filters); parsed and applied in ${applySeconds.toFixed(2)} s`,
);
console.log(
  `rerun: BENCH_RULES=${RULES} BENCH_VERSIONS=${VERSIONS} node --expose-gc --conditions=source --import tsx bench/evaluator/rule-book-memory.ts`,
);
