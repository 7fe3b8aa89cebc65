import { isOperation, operationParts, type JsonLogicExpression } from "./expression.js";

/** The derived facts (DESIGN.md §3) as bits: which of them a filter may read. */
export const READS_LATENCY = 1;
export const READS_METADATA = 2;
export const READS_HAS_ERROR = 4;
export const READS_ALL_FACTS = READS_LATENCY | READS_METADATA | READS_HAS_ERROR;

const BY_NAME: Readonly<Record<string, number>> = {
  latency: READS_LATENCY,
  metadata: READS_METADATA,
  has_error: READS_HAS_ERROR,
};

/**
 * Which derived facts a filter may read, so the facts no rule of a tenant reads are not computed
 * (latency parses two timestamps). Over-approximates, never under: a `var` whose path is computed at
 * run time, is the whole data, or is not a plain string or number, and `missing`/`missing_some`
 * (which read keys named by data), count as reading every fact; a `var` inside `filter`, `map`,
 * `reduce`, `some_entry`… reads an element (an entry's `key` and `value`), but counts as reading the
 * run. `search` reads only the values its operands name (`{"var": "inputs"}`).
 */
export function derivedFactsRead(filter: JsonLogicExpression): number {
  let reads = 0;
  const walk = (logic: unknown): void => {
    if (reads === READS_ALL_FACTS) return;
    if (Array.isArray(logic)) {
      for (const item of logic) walk(item);
      return;
    }
    if (!isOperation(logic)) return;
    const { op, operands } = operationParts(logic);
    if (op === "missing" || op === "missing_some") {
      reads = READS_ALL_FACTS;
      return;
    }
    if (op === "var") {
      const path = operands[0];
      if ((typeof path === "string" && path !== "") || typeof path === "number") {
        reads |= BY_NAME[String(path).split(".")[0]!] ?? 0;
      } else {
        reads = READS_ALL_FACTS;
        return;
      }
    }
    for (const operand of operands) walk(operand);
  };
  walk(filter);
  return reads;
}
