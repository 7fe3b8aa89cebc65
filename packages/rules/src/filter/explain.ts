import { formatPath, type JsonValue } from "@runhooks/contracts";
import { compileExpression } from "./compile.js";
import { isOperation, operationParts, type JsonLogicExpression } from "./expression.js";
import { truthy } from "./operators.js";
import { resolveVar } from "./var-path.js";

/**
 * One part of a filter and what it came to on a run. `and`, `or` and `!` are broken down into their
 * operands (`parts`); anything else is a leaf, shown with the values of the run fields it reads.
 */
export interface FilterPartExplanation {
  /** Where the part sits in the rule document: `filter.and[1]`. */
  readonly path: string;
  readonly expression: JsonValue;
  /** json-logic truthiness of the part's value. */
  readonly result: boolean;
  /** Set when evaluating the part threw in json-logic semantics; the part then counts as false. */
  readonly error?: string;
  /** Leaves only: each literal `var` path the part reads (outside per-element logic) and its value. */
  readonly vars?: Readonly<Record<string, unknown>>;
  readonly parts?: readonly FilterPartExplanation[];
}

export interface FilterExplanation {
  /** Whether the run matches; always the compiled filter's answer. */
  readonly matched: boolean;
  readonly root: FilterPartExplanation;
}

/**
 * Why a run does or does not match a filter, part by part (the dry-run API's answer). Each part is
 * evaluated on its own, so every failing operand of an `and` is shown, not only the first.
 */
export function explainFilter(filter: JsonLogicExpression, facts: Record<string, unknown>): FilterExplanation {
  const root = explainPart(filter, ["filter"], facts);
  return { matched: root.result, root };
}

const DECOMPOSED = new Set(["and", "or", "!"]);

function explainPart(expression: JsonValue, path: readonly PropertyKey[], facts: Record<string, unknown>): FilterPartExplanation {
  const outcome = evaluate(expression, facts);
  const base = { path: formatPath(path), expression, result: outcome.result, ...(outcome.error === undefined ? {} : { error: outcome.error }) };
  if (isOperation(expression)) {
    const { op, operands, listed } = operationParts(expression);
    if (DECOMPOSED.has(op)) {
      // `!` reads only its first operand.
      const shown = op === "!" ? operands.slice(0, 1) : operands;
      const parts = shown.map((operand, index) =>
        explainPart(operand as JsonValue, listed ? [...path, op, index] : [...path, op], facts),
      );
      return { ...base, parts };
    }
  }
  const vars: Record<string, unknown> = {};
  for (const name of readPaths(expression)) vars[name] = resolveVar(facts, name, undefined);
  return Object.keys(vars).length === 0 ? base : { ...base, vars };
}

function evaluate(expression: JsonValue, facts: Record<string, unknown>): { result: boolean; error?: string } {
  try {
    return { result: truthy(compileExpression(expression)(facts)) };
  } catch (error) {
    return { result: false, error: error instanceof Error ? error.message : String(error) };
  }
}

const PER_ELEMENT = new Set(["all", "some", "none", "map", "filter", "reduce"]);

/** Literal `var` paths read against the run's facts, skipping logic that runs per array element. */
function readPaths(expression: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(expression)) {
    for (const item of expression) readPaths(item, into);
  } else if (isOperation(expression)) {
    const { op, operands } = operationParts(expression);
    const [first] = operands;
    if (op === "var" && (typeof first === "string" || typeof first === "number") && first !== "") into.add(String(first));
    const visited = PER_ELEMENT.has(op) ? operands.slice(0, 1).concat(op === "reduce" ? operands.slice(2, 3) : []) : operands;
    for (const operand of visited) readPaths(operand, into);
  }
  return into;
}
