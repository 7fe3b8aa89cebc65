// The rule book's memory and CPU per rule version: 100,000 alerting rules over 10,000 tenants (the
// shapes of bench:evaluator-scale) applied to one book as the evaluator reads the rules topic — a batch
// of message texts at a time, each checked and parsed, the batch applied at once, the texts dropped —
// the heap measured after full collections before and after, the CPU of parsing and applying. Then
// every version but each rule's last is dropped, as the evaluator does once the checkpoints passed them
// (`dropVersionsBefore`), and the heap measured again. No Kafka.
//
//   node --expose-gc --conditions=source --import tsx bench/evaluator/rule-book-memory.ts
//   BENCH_RULES=100000 BENCH_VERSIONS=3 BENCH_BATCH=2000 …   (rules; versions of each, applied one
//   after the other; versions per batch)
import { randomUUID } from "node:crypto";
import { RuleVersion, isParsedRuleVersion } from "@runhooks/contracts";
import {
  applyRuleVersions,
  buildIndexes,
  createRuleBook,
  dropVersionsBefore,
  type RuleVersionMessage,
} from "@runhooks/rules";
import { selectiveFilter } from "./scale-data.js";

const RULES = Number(process.env["BENCH_RULES"] ?? 100_000);
const VERSIONS = Number(process.env["BENCH_VERSIONS"] ?? 1);
/** Versions per batch: about what one 1 MiB fetch of the rules topic holds. */
const BATCH = Number(process.env["BENCH_BATCH"] ?? 2000);
const TENANTS = Array.from({ length: Math.max(1, RULES / 10) }, () => randomUUID());
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc");

const ids = Array.from({ length: RULES }, () => randomUUID());
/** The rules topic's message values, `count` from the `from`-th (version by version, rule by rule). */
const texts = (from: number, count: number): string[] =>
  Array.from({ length: Math.min(count, RULES * VERSIONS - from) }, (_, k) => {
    const v = 1 + Math.floor((from + k) / RULES);
    const i = (from + k) % RULES;
    return JSON.stringify({
      schema_version: 1,
      kind: "rule",
      rule_id: ids[i],
      version: v,
      tenant_id: TENANTS[i % TENANTS.length],
      session_id: null,
      enabled: true,
      filter: selectiveFilter(Math.floor(i / TENANTS.length) + v),
      sampling_rate: 1,
      window: { seconds: 5, max_runs: 100 },
    });
  });

/** The heap after collections until it stops shrinking (one may leave garbage not swept yet). */
async function settledHeap(): Promise<number> {
  let heap = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = process.memoryUsage().heapUsed;
    if (now >= heap) break;
    heap = now;
  }
  return heap;
}

const before = await settledHeap();
const book = createRuleBook();
let cpuUs = 0;
let wallMs = 0;
// As the evaluator reads the rules topic: a batch of message values at a time (dropped once read),
// each checked by the fast check (the schema for what it leaves), the batch's versions applied at once.
for (let from = 0; from < RULES * VERSIONS; from += BATCH) {
  const values = texts(from, BATCH);
  const began = performance.now();
  const cpu = process.cpuUsage();
  const batch = values.map((text, k): RuleVersionMessage => {
    const json = JSON.parse(text) as unknown;
    const rule = isParsedRuleVersion(json) ? json : RuleVersion.parse(json);
    return { ruleId: rule.rule_id, rule, effectiveFrom: from + k };
  });
  applyRuleVersions(book, batch);
  const used = process.cpuUsage(cpu);
  cpuUs += used.user + used.system;
  wallMs += performance.now() - began;
}
{
  // Each tenant's index as its first run after the load builds it: part of the load's cost.
  const began = performance.now();
  const cpu = process.cpuUsage();
  buildIndexes(book);
  const used = process.cpuUsage(cpu);
  cpuUs += used.user + used.system;
  wallMs += performance.now() - began;
}
const after = await settledHeap();
const versions = RULES * VERSIONS;
console.log(
  `${RULES} rules × ${VERSIONS} version(s) over ${TENANTS.length} tenants: ${((after - before) / 2 ** 20).toFixed(1)} MiB of heap, ` +
    `${((after - before) / versions).toFixed(0)} bytes per version (${book.filterSlots.size} distinct filters); parsed and applied in ${(wallMs / 1000).toFixed(2)} s, ${(cpuUs / versions).toFixed(1)} µs of CPU per version`,
);
console.log(
  `rerun: BENCH_RULES=${RULES} BENCH_VERSIONS=${VERSIONS} BENCH_BATCH=${BATCH} node --expose-gc --conditions=source --import tsx bench/evaluator/rule-book-memory.ts`,
);

// Every rule's last version is in force at RULES × VERSIONS, after the last applied: drop what precedes it.
const dropCpu = process.cpuUsage();
const dropped = dropVersionsBefore(book, RULES * VERSIONS);
const dropUs = process.cpuUsage(dropCpu);
const afterDrop = await settledHeap();
console.log(
  `dropping the ${dropped} superseded versions: ${((after - afterDrop) / 2 ** 20).toFixed(1)} MiB of heap freed, ` +
    `${((afterDrop - before) / 2 ** 20).toFixed(1)} MiB left, in ${((dropUs.user + dropUs.system) / 1000).toFixed(0)} ms of CPU`,
);
