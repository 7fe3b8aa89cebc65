import {
  DEFAULT_FILTER_STEPS,
  EXHAUSTED,
  charge,
  chargeOperand,
  chargeText,
  lengthSteps,
  unmetered,
  type Meter,
} from "./budget.js";
import { compileEager, constant, isConstant, chargePath, type Evaluate } from "./evaluate.js";
import { isOperation, operationParts, type JsonLogicExpression } from "./expression.js";
import { BINARY_OPERATIONS, UNARY_OPERATIONS, VALUE_OPERATIONS, truthy, type ValueOperator } from "./operators.js";
import { compileExtension } from "./extension.js";
import { compileMissing, compileMissingSome } from "./missing.js";
import { compileReduce, compileScoped } from "./scoped.js";
import { pathResolver, resolveVar } from "./var-path.js";

export type { Evaluate } from "./evaluate.js";

/**
 * A filter's answer on one run: match or not, or "error" when the evaluation ran out of its budget
 * (the rule neither matches nor stops the evaluator; the tenant is told).
 */
export type FilterVerdict = boolean | "error";

/** A rule's filter, ready for the hot path. */
export interface CompiledFilter {
  (facts: Record<string, unknown>): FilterVerdict;
  /** Steps per evaluation. */
  readonly maxSteps: number;
  /** Steps the last evaluation charged (more than `maxSteps` when it ran out). */
  readonly lastSteps: number;
}

export interface CompileOptions {
  /** Steps per evaluation (`DEFAULT_FILTER_STEPS`). */
  readonly maxSteps?: number;
}

/** Why a verdict is "error", for the tenant: names the budget. */
export function budgetExhaustedMessage(maxSteps: number): string {
  return `the filter needed more than ${maxSteps.toLocaleString("en-US")} steps on this run (its evaluation budget); it neither matches nor fails the run — simplify it (fewer nested some/all/map/filter/reduce, smaller arrays)`;
}

/**
 * Compiles a validated filter into closures, once per rule version; evaluating it walks no JSON.
 *
 * The result is exactly `jsonLogic.truthy(jsonLogic.apply(filter, facts))` of json-logic-js 2.0.5
 * for the JSON-logic operators (a differential test holds it to that); the extension operators
 * (operators.ts) are held to a reference evaluator of LangSmith's filter language. Where json-logic-js would throw on a run's data — `in` on
 * an object that has an `indexOf` key, `missing_some` whose key list is null, an object whose
 * `toString` key is data meeting `==` — the filter does not match that run: a rule must not stop the
 * evaluator, and the dry-run (`explainFilter`) shows the error.
 *
 * Within the budget (`options.maxSteps`, see budget.ts) the answer is json-logic-js's; an evaluation
 * that would take more steps stops there with the verdict "error". The budget is per evaluation and
 * counted in steps, so a replay of the same run gives the same verdict.
 */
export function compileFilter(filter: JsonLogicExpression, options: CompileOptions = {}): CompiledFilter {
  const maxSteps = options.maxSteps ?? DEFAULT_FILTER_STEPS;
  const meter: Meter = { left: maxSteps };
  const evaluate = compileExpression(filter, meter);
  const compiled = (facts: Record<string, unknown>): FilterVerdict => {
    meter.left = maxSteps;
    try {
      return truthy(evaluate(facts));
    } catch (error) {
      return error === EXHAUSTED ? "error" : false;
    }
  };
  return Object.defineProperties(compiled, {
    maxSteps: { value: maxSteps },
    lastSteps: { get: () => maxSteps - meter.left },
  }) as CompiledFilter;
}

/**
 * Compiles any JSON with json-logic-js's meaning, plus the extension operators (operators.ts),
 * charging every evaluation to `meter`. Total: validation is what keeps `log` and unknown operators
 * out of filters; here they behave as upstream (unknown throws when reached, `log` returns its
 * operand, minus the console). That matters for data that `missing` re-reads as logic, which is
 * compiled as json-logic-js would (`extended` false: an extension operator's name in data is unknown
 * there too). Without a meter nothing is counted (bounded by the caller).
 */
export function compileExpression(logic: unknown, meter: Meter = unmetered(), extended = true): Evaluate {
  const compile = (operand: unknown): Evaluate => compileExpression(operand, meter, extended);
  if (Array.isArray(logic)) {
    const items = logic.map(compile);
    // Operators never mutate their operands, so a literal array can be built once and shared.
    if (items.every(isConstant)) return constant(logic);
    const size = 1 + items.length;
    return (data) => {
      charge(meter, size);
      return items.map((item) => item(data));
    };
  }
  if (!isOperation(logic)) return constant(logic);
  const { op, operands } = operationParts(logic);
  switch (op) {
    case "and":
      return compileAnd(operands.map(compile), meter);
    case "or":
      return compileOr(operands.map(compile), meter);
    case "if":
    case "?:":
      return compileIf(operands.map(compile), meter);
    case "filter":
    case "map":
    case "all":
    case "some":
    case "none":
      return compileScoped(op, compile(operands[0]), compile(operands[1]), meter);
    case "reduce":
      return compileReduce(
        compile(operands[0]),
        compile(operands[1]),
        operands[2] === undefined ? constant(null) : compile(operands[2]),
        meter,
      );
    case "var":
      return compileVar(operands.map(compile), meter);
    case "missing":
      return compileMissing(operands.map(compile), meter, compileJsonLogic);
    case "missing_some":
      return compileMissingSome(operands.map(compile), meter, compileJsonLogic);
    case "log":
      return compileEager(operands.map(compile), meter, ([first]) => first);
    default:
      if (extended) {
        const extension = compileExtension(op, operands, compile, meter);
        if (extension !== undefined) return extension;
      }
      if (Object.hasOwn(VALUE_OPERATIONS, op)) return compileValueOp(op as ValueOperator, operands.map(compile), meter);
      return () => {
        throw new Error(`Unrecognized operation ${op}`);
      };
  }
}

/** json-logic-js's operators only: for data re-read as logic. */
function compileJsonLogic(logic: unknown, meter: Meter): Evaluate {
  return compileExpression(logic, meter, false);
}

/**
 * What an operator's work costs beyond its one step, charged before the work: `cat` and `substr`
 * build strings from their operands, `merge` copies elements, `in` searches its second operand, and
 * every other operator coerces an array operand to a string or number (`[1,2] == "1,2"`).
 */
function chargeValues(op: ValueOperator, meter: Meter, values: readonly unknown[]): void {
  switch (op) {
    case "cat":
      for (const value of values) chargeText(meter, value);
      return;
    case "substr":
      chargeText(meter, values[0]);
      return;
    case "merge":
      for (const value of values) charge(meter, lengthSteps(value));
      return;
    case "in":
      chargeOperand(meter, values[0]);
      charge(meter, lengthSteps(values[1]));
      return;
    default:
      for (const value of values) chargeOperand(meter, value);
  }
}

function compileValueOp(op: ValueOperator, operands: readonly Evaluate[], meter: Meter): Evaluate {
  const [left, right] = operands;
  const unary = UNARY_OPERATIONS[op];
  if (unary !== undefined && operands.length === 1 && left !== undefined) {
    // `!` and `!!` only test truthiness: one step, whatever the operand.
    return (data) => {
      const value = left(data);
      charge(meter, 1);
      return unary(value);
    };
  }
  const binary = BINARY_OPERATIONS[op];
  if (binary !== undefined && operands.length === 2 && left !== undefined && right !== undefined) {
    if (op === "in") {
      return (data) => {
        const a = left(data);
        const b = right(data);
        chargeOperand(meter, a);
        charge(meter, lengthSteps(b));
        return binary(a, b);
      };
    }
    return (data) => {
      const a = left(data);
      const b = right(data);
      charge(meter, 1);
      chargeOperand(meter, a);
      chargeOperand(meter, b);
      return binary(a, b);
    };
  }
  const apply = VALUE_OPERATIONS[op];
  return compileEager(operands, meter, (values) => {
    chargeValues(op, meter, values);
    return apply(values);
  });
}

/** The first falsy operand, or the last operand (undefined when there are none). */
function compileAnd(operands: readonly Evaluate[], meter: Meter): Evaluate {
  return (data) => {
    charge(meter, 1);
    let current: unknown;
    for (const operand of operands) {
      current = operand(data);
      if (!truthy(current)) return current;
    }
    return current;
  };
}

/** The first truthy operand, or the last operand (undefined when there are none). */
function compileOr(operands: readonly Evaluate[], meter: Meter): Evaluate {
  return (data) => {
    charge(meter, 1);
    let current: unknown;
    for (const operand of operands) {
      current = operand(data);
      if (truthy(current)) return current;
    }
    return current;
  };
}

/** `[cond, then, cond, then, …, else?]`: no else and no true condition gives null. */
function compileIf(operands: readonly Evaluate[], meter: Meter): Evaluate {
  const branches: (readonly [Evaluate, Evaluate])[] = [];
  let otherwise: Evaluate | undefined;
  for (let i = 0; i < operands.length; i += 2) {
    const condition = operands[i];
    const consequent = operands[i + 1];
    if (condition === undefined) break;
    if (consequent === undefined) otherwise = condition;
    else branches.push([condition, consequent]);
  }
  return (data) => {
    charge(meter, 1);
    for (const [condition, consequent] of branches) {
      if (truthy(condition(data))) return consequent(data);
    }
    return otherwise === undefined ? null : otherwise(data);
  };
}

/** Operands past the ones an operator reads: still evaluated (they may throw), unless constant. */
function extrasOf(operands: readonly Evaluate[], used: number): readonly Evaluate[] {
  return operands.slice(used).filter((operand) => !isConstant(operand));
}

function runAll(operands: readonly Evaluate[], data: unknown): void {
  for (const operand of operands) operand(data);
}

function compileVar(operands: readonly Evaluate[], meter: Meter): Evaluate {
  const path = operands[0] ?? constant(undefined);
  const fallback = operands[1] ?? constant(undefined);
  const extras = extrasOf(operands, 2);
  const literal = isConstant(path) ? path(undefined) : undefined;
  if (isConstant(path) && (literal === undefined || literal === null || literal === "")) {
    // The whole data: in scoped logic, the element (`{"some": [{"var": "tags"}, {"==": [{"var": ""}, "prod"]}]}`).
    const unused = extrasOf(operands, 1);
    return (data) => {
      charge(meter, 1);
      runAll(unused, data);
      return data;
    };
  }
  if (!isConstant(path) || !(typeof literal === "string" || typeof literal === "number")) {
    // A computed path, or an odd literal (an array is joined with commas by String()).
    return (data) => {
      const at = path(data);
      const given = fallback(data);
      charge(meter, 1);
      chargePath(meter, at);
      const value = resolveVar(data, at, given);
      runAll(extras, data);
      return value;
    };
  }
  const resolve = pathResolver(String(literal));
  if (isConstant(fallback) && extras.length === 0) {
    const given = fallback(undefined);
    const notFound = given === undefined ? null : given;
    return (data) => {
      charge(meter, 1);
      return resolve(data, notFound);
    };
  }
  return (data) => {
    const given = fallback(data);
    charge(meter, 1);
    runAll(extras, data);
    return resolve(data, given === undefined ? null : given);
  };
}
