/**
 * The operators a filter may use, and the semantics of the JSON-logic ones that simply combine their
 * evaluated operands. The implementations are json-logic-js 2.0.5's, coercions and all: each one applies the
 * same JavaScript operator to the same values, so `==` coerces, `+` goes through `parseFloat`, and a
 * value that makes json-logic-js throw makes these throw too. The type casts only quiet TypeScript;
 * JavaScript's runtime coercions are the semantics.
 *
 * `log` (writes to the console) and `method` (calls methods on data; gone from json-logic-js 2.x) are
 * deliberately not accepted.
 */
export const JSON_LOGIC_OPERATORS = [
  "==",
  "===",
  "!=",
  "!==",
  ">",
  ">=",
  "<",
  "<=",
  "!",
  "!!",
  "and",
  "or",
  "if",
  "?:",
  "in",
  "cat",
  "substr",
  "+",
  "-",
  "*",
  "/",
  "%",
  "min",
  "max",
  "var",
  "missing",
  "missing_some",
  "all",
  "some",
  "none",
  "map",
  "filter",
  "reduce",
  "merge",
] as const;
export type JsonLogicOperator = (typeof JSON_LOGIC_OPERATORS)[number];

/**
 * Operators JSON-logic has no counterpart for, which LangSmith's filter language needs: `like` (SQL
 * LIKE, like.ts), `search` (case-insensitive text search through values, search.ts), `some_entry`
 * (one key/value entry of an object matches, entries.ts), `instant` (a timestamp as a comparable
 * number, instant.ts). They run on the same compiled path and budget as the others.
 */
export const EXTENSION_OPERATORS = ["like", "search", "some_entry", "instant"] as const;
export type ExtensionOperator = (typeof EXTENSION_OPERATORS)[number];

export const FILTER_OPERATORS = [...JSON_LOGIC_OPERATORS, ...EXTENSION_OPERATORS] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

const accepted: ReadonlySet<string> = new Set(FILTER_OPERATORS);
export function isFilterOperator(op: string): op is FilterOperator {
  return accepted.has(op);
}

/** json-logic's truthiness: JavaScript's, except that an empty array is false (jsonlogic.com/truthy). */
export function truthy(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : Boolean(value);
}

type Operands = readonly unknown[];
type Num = number;

/** `parseFloat(v)` without the string round trip for numbers; the round trip only turns -0 into 0. */
function toFloat(value: unknown): number {
  if (typeof value === "number") return value === 0 ? 0 : value;
  return parseFloat(typeof value === "string" ? value : String(value));
}

function lessThan(a: unknown, b: unknown): boolean {
  return (a as Num) < (b as Num);
}
function atMost(a: unknown, b: unknown): boolean {
  return (a as Num) <= (b as Num);
}

function includes(a: unknown, b: unknown): boolean {
  // Strings and arrays have indexOf; an object whose own `indexOf` is data makes this throw, as upstream.
  if (!b || typeof (b as { indexOf?: unknown }).indexOf === "undefined") return false;
  return (b as { indexOf(item: unknown): number }).indexOf(a) !== -1;
}

/**
 * Two-operand forms of the operators that read at most two operands, used when exactly two are
 * written (the common case: no operand array is built per evaluation).
 */
export const BINARY_OPERATIONS: Readonly<Partial<Record<ValueOperator, (a: unknown, b: unknown) => unknown>>> = {
  // Loose, as in json-logic-js.
  "==": (a, b) => a == b,
  "===": (a, b) => a === b,
  "!=": (a, b) => a != b,
  "!==": (a, b) => a !== b,
  ">": (a, b) => (a as Num) > (b as Num),
  ">=": (a, b) => (a as Num) >= (b as Num),
  "<": lessThan,
  "<=": atMost,
  "%": (a, b) => (a as Num) % (b as Num),
  "/": (a, b) => (a as Num) / (b as Num),
  "-": (a, b) => (b === undefined ? -(a as Num) : (a as Num) - (b as Num)),
  in: includes,
};

/** One-operand forms of the negations, for the same reason. */
export const UNARY_OPERATIONS: Readonly<Partial<Record<ValueOperator, (a: unknown) => unknown>>> = {
  "!": (a) => !truthy(a),
  "!!": (a) => truthy(a),
};

export type ValueOperator = Exclude<
  JsonLogicOperator,
  | "and"
  | "or"
  | "if"
  | "?:"
  | "var"
  | "missing"
  | "missing_some"
  | "all"
  | "some"
  | "none"
  | "map"
  | "filter"
  | "reduce"
>;

/** Operators that see only their evaluated operands (not the data), in json-logic-js's words. */
export const VALUE_OPERATIONS: Readonly<Record<ValueOperator, (operands: Operands) => unknown>> = {
  "==": ([a, b]) => a == b,
  "===": ([a, b]) => a === b,
  "!=": ([a, b]) => a != b,
  "!==": ([a, b]) => a !== b,
  ">": ([a, b]) => (a as Num) > (b as Num),
  ">=": ([a, b]) => (a as Num) >= (b as Num),
  // The between forms: a third operand that evaluates to undefined means the two-operand form.
  "<": ([a, b, c]) => (c === undefined ? lessThan(a, b) : lessThan(a, b) && lessThan(b, c)),
  "<=": ([a, b, c]) => (c === undefined ? atMost(a, b) : atMost(a, b) && atMost(b, c)),
  "!!": ([a]) => truthy(a),
  "!": ([a]) => !truthy(a),
  "%": ([a, b]) => (a as Num) % (b as Num),
  in: ([a, b]) => includes(a, b),
  // join turns null and undefined into "" and nested arrays into "a,b", exactly as upstream.
  cat: (operands) => operands.join(""),
  substr: ([source, start, end]) => {
    if ((end as Num) < 0) {
      // A negative length counts from the end (PHP's substr); note `length + end` concatenates if
      // `end` is a string such as "-1", which upstream does too.
      const tail = String(source).substr(start as Num);
      return tail.substr(0, tail.length + (end as Num));
    }
    return String(source).substr(start as Num, end as Num);
  },
  "+": (operands) => {
    let sum = 0;
    for (const operand of operands) sum = toFloat(sum) + toFloat(operand);
    return sum;
  },
  // No initial value: one operand comes back unconverted (`{"*": ["3"]}` is "3"), none throws.
  "*": (operands) => operands.reduce((a, b) => toFloat(a) * toFloat(b)),
  "-": ([a, b]) => (b === undefined ? -(a as Num) : (a as Num) - (b as Num)),
  "/": ([a, b]) => (a as Num) / (b as Num),
  min: (operands) => Math.min(...(operands as Num[])),
  max: (operands) => Math.max(...(operands as Num[])),
  merge: (operands) => {
    let merged: unknown[] = [];
    for (const operand of operands) merged = merged.concat(operand);
    return merged;
  },
};
