import { formatPath, type JsonValue } from "@runhooks/contracts";
import { DEFAULT_FILTER_STEPS, EXHAUSTED, type Meter } from "./budget.js";
import { budgetExhaustedMessage, compileExpression } from "./compile.js";
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
  /** The text this part was written as, when the filter was written in LangSmith's language. */
  readonly source?: string;
  /** json-logic truthiness of the part's value. */
  readonly result: boolean;
  /**
   * Set when evaluating the part threw in json-logic semantics, or ran out of its budget; the part
   * then counts as false.
   */
  readonly error?: string;
  /** Leaves only: each literal `var` path the part reads (outside per-element logic) and its value. */
  readonly vars?: Readonly<Record<string, unknown>>;
  readonly parts?: readonly FilterPartExplanation[];
}

export interface FilterExplanation {
  /** Whether the run matches; always the compiled filter's answer. */
  readonly matched: boolean;
  readonly root: FilterPartExplanation;
  /** Steps the explanation took, all parts together. */
  readonly steps: number;
}

export interface ExplainOptions {
  /** Steps each part's evaluation may take: the compiled filter's budget (`DEFAULT_FILTER_STEPS`). */
  readonly maxSteps?: number;
  /** Steps for all the parts together (default 4 × `maxSteps`); parts past it are not evaluated. */
  readonly maxTotalSteps?: number;
  /** Path → the text it was written as (`resolveFilter`'s `sources`), shown on the parts. */
  readonly sources?: Readonly<Record<string, string>>;
}

/** The steps an explanation may still take, and the meter its parts are charged to. */
interface Allowance {
  readonly meter: Meter;
  readonly maxSteps: number;
  readonly total: number;
  readonly sources: Readonly<Record<string, string>>;
  left: number;
  /** Steps the whole explanation took. */
  used: number;
}

/**
 * Why a run does or does not match a filter, part by part (the dry-run API's answer). Each part is
 * evaluated on its own, so every failing operand of an `and` is shown, not only the first. Each part
 * runs under the compiled filter's budget, and all of them under a total, so an explanation costs a
 * bounded number of steps whatever the filter and the run.
 */
export function explainFilter(
  filter: JsonLogicExpression,
  facts: Record<string, unknown>,
  options: ExplainOptions = {},
): FilterExplanation {
  const maxSteps = options.maxSteps ?? DEFAULT_FILTER_STEPS;
  const total = options.maxTotalSteps ?? 4 * maxSteps;
  const sources = options.sources ?? {};
  const allowance: Allowance = { meter: { left: 0 }, maxSteps, total, sources, left: total, used: 0 };
  const root = explainPart(filter, ["filter"], facts, allowance);
  return { matched: root.result, root, steps: allowance.used };
}

const DECOMPOSED = new Set(["and", "or", "!"]);

function explainPart(
  expression: JsonValue,
  path: readonly PropertyKey[],
  facts: Record<string, unknown>,
  allowance: Allowance,
): FilterPartExplanation {
  const outcome = evaluate(expression, facts, allowance);
  const at = formatPath(path);
  const source = Object.hasOwn(allowance.sources, at) ? allowance.sources[at] : undefined;
  const base = {
    path: at,
    expression,
    ...(source === undefined ? {} : { source }),
    result: outcome.result,
    ...(outcome.error === undefined ? {} : { error: outcome.error }),
  };
  if (isOperation(expression)) {
    const { op, operands, listed } = operationParts(expression);
    if (DECOMPOSED.has(op)) {
      // `!` reads only its first operand.
      const shown = op === "!" ? operands.slice(0, 1) : operands;
      const parts = shown.map((operand, index) =>
        explainPart(operand as JsonValue, listed ? [...path, op, index] : [...path, op], facts, allowance),
      );
      return { ...base, parts };
    }
  }
  const vars: Record<string, unknown> = {};
  for (const name of readPaths(expression)) vars[name] = resolveVar(facts, name, undefined);
  return Object.keys(vars).length === 0 ? base : { ...base, vars };
}

function evaluate(
  expression: JsonValue,
  facts: Record<string, unknown>,
  allowance: Allowance,
): { result: boolean; error?: string } {
  const { meter, maxSteps } = allowance;
  // Each part may take the filter's budget, as long as the explanation's total lasts.
  const given = Math.min(maxSteps, allowance.left);
  meter.left = given;
  try {
    return { result: truthy(compileExpression(expression, meter)(facts)) };
  } catch (error) {
    if (error === EXHAUSTED) {
      const why =
        given < maxSteps
          ? `not evaluated: explaining this run took all of its ${allowance.total.toLocaleString("en-US")} steps`
          : budgetExhaustedMessage(maxSteps);
      return { result: false, error: why };
    }
    return { result: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    const spent = Math.min(given, given - meter.left);
    allowance.left -= spent;
    allowance.used += spent;
  }
}

const PER_ELEMENT = new Set(["all", "some", "none", "map", "filter", "reduce", "some_entry"]);

/** Literal `var` paths read against the run's facts, skipping logic that runs per array element. */
function readPaths(expression: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(expression)) {
    for (const item of expression) readPaths(item, into);
  } else if (isOperation(expression)) {
    const { op, operands } = operationParts(expression);
    const [first] = operands;
    if (op === "var" && (typeof first === "string" || typeof first === "number") && first !== "")
      into.add(String(first));
    const visited = PER_ELEMENT.has(op)
      ? operands.slice(0, 1).concat(op === "reduce" ? operands.slice(2, 3) : [])
      : operands;
    for (const operand of visited) readPaths(operand, into);
  }
  return into;
}
