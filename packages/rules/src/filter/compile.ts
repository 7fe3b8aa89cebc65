import { isOperation, operationParts, type JsonLogicExpression } from "./expression.js";
import { BINARY_OPERATIONS, UNARY_OPERATIONS, VALUE_OPERATIONS, truthy, type ValueOperator } from "./operators.js";
import { pathResolver, resolveVar } from "./var-path.js";

/** Evaluates one sub-expression against the data in scope (the run's facts, or an array element). */
export type Evaluate = (data: unknown) => unknown;

/** A rule's filter, ready for the hot path: true when the run matches. */
export type CompiledFilter = (facts: Record<string, unknown>) => boolean;

/**
 * Compiles a validated filter into closures, once per rule version; evaluating it walks no JSON.
 *
 * The result is exactly `jsonLogic.truthy(jsonLogic.apply(filter, facts))` of json-logic-js 2.0.5
 * (a differential test holds it to that). Where json-logic-js would throw on a run's data — `in` on
 * an object that has an `indexOf` key, `missing_some` whose key list is null, an object whose
 * `toString` key is data meeting `==` — the filter does not match that run: a rule must not stop the
 * evaluator, and the dry-run (`explainFilter`) shows the error.
 */
export function compileFilter(filter: JsonLogicExpression): CompiledFilter {
  const evaluate = compileExpression(filter);
  return (facts) => {
    try {
      return truthy(evaluate(facts));
    } catch {
      return false;
    }
  };
}

/** `Array.isArray` without the `any[]` it narrows `unknown` to. */
function asArray(value: unknown): readonly unknown[] | undefined {
  return Array.isArray(value) ? (value as readonly unknown[]) : undefined;
}

const constants = new WeakSet<Evaluate>();

function constant(value: unknown): Evaluate {
  const evaluate: Evaluate = () => value;
  constants.add(evaluate);
  return evaluate;
}

function isConstant(evaluate: Evaluate): boolean {
  return constants.has(evaluate);
}

/**
 * Compiles any JSON with json-logic-js's meaning. Total: validation is what keeps `log` and unknown
 * operators out of filters; here they behave as upstream (unknown throws when reached, `log` returns
 * its operand, minus the console). That matters for data that `missing` re-reads as logic.
 */
export function compileExpression(logic: unknown): Evaluate {
  if (Array.isArray(logic)) {
    const items = logic.map(compileExpression);
    // Operators never mutate their operands, so a literal array can be built once and shared.
    if (items.every(isConstant)) return constant(logic);
    return (data) => items.map((item) => item(data));
  }
  if (!isOperation(logic)) return constant(logic);
  const { op, operands } = operationParts(logic);
  switch (op) {
    case "and":
      return compileAnd(operands.map(compileExpression));
    case "or":
      return compileOr(operands.map(compileExpression));
    case "if":
    case "?:":
      return compileIf(operands.map(compileExpression));
    case "filter":
    case "map":
    case "all":
    case "some":
    case "none":
      return compileScoped(op, compileExpression(operands[0]), compileExpression(operands[1]));
    case "reduce":
      return compileReduce(operands);
    case "var":
      return compileVar(operands.map(compileExpression));
    case "missing":
      return compileMissing(operands.map(compileExpression));
    case "missing_some":
      return compileMissingSome(operands.map(compileExpression));
    case "log":
      return compileEager(operands.map(compileExpression), ([first]) => first);
    default:
      if (Object.hasOwn(VALUE_OPERATIONS, op)) return compileValueOp(op as ValueOperator, operands.map(compileExpression));
      return () => {
        throw new Error(`Unrecognized operation ${op}`);
      };
  }
}

/** json-logic-js evaluates every operand before applying an operator, even unused ones (which may throw). */
function compileEager(operands: readonly Evaluate[], apply: (values: unknown[], data: unknown) => unknown): Evaluate {
  return (data) =>
    apply(
      operands.map((operand) => operand(data)),
      data,
    );
}

function compileValueOp(op: ValueOperator, operands: readonly Evaluate[]): Evaluate {
  const [left, right] = operands;
  const unary = UNARY_OPERATIONS[op];
  if (unary !== undefined && operands.length === 1 && left !== undefined) return (data) => unary(left(data));
  const binary = BINARY_OPERATIONS[op];
  if (binary !== undefined && operands.length === 2 && left !== undefined && right !== undefined) {
    return (data) => binary(left(data), right(data));
  }
  const apply = VALUE_OPERATIONS[op];
  return compileEager(operands, (values) => apply(values));
}

/** The first falsy operand, or the last operand (undefined when there are none). */
function compileAnd(operands: readonly Evaluate[]): Evaluate {
  return (data) => {
    let current: unknown;
    for (const operand of operands) {
      current = operand(data);
      if (!truthy(current)) return current;
    }
    return current;
  };
}

/** The first truthy operand, or the last operand (undefined when there are none). */
function compileOr(operands: readonly Evaluate[]): Evaluate {
  return (data) => {
    let current: unknown;
    for (const operand of operands) {
      current = operand(data);
      if (truthy(current)) return current;
    }
    return current;
  };
}

/** `[cond, then, cond, then, …, else?]`: no else and no true condition gives null. */
function compileIf(operands: readonly Evaluate[]): Evaluate {
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
    for (const [condition, consequent] of branches) {
      if (truthy(condition(data))) return consequent(data);
    }
    return otherwise === undefined ? null : otherwise(data);
  };
}

/**
 * `filter`, `map`, `all`, `some`, `none`: the second operand runs once per element, with the element
 * as its data. A non-array source is `[]` for filter and map; `all` of nothing is false, `none` true.
 */
function compileScoped(op: "filter" | "map" | "all" | "some" | "none", source: Evaluate, scoped: Evaluate): Evaluate {
  switch (op) {
    case "filter":
      return (data) => {
        const items = asArray(source(data));
        return items === undefined ? [] : items.filter((item) => truthy(scoped(item)));
      };
    case "map":
      return (data) => {
        const items = asArray(source(data));
        return items === undefined ? [] : items.map((item) => scoped(item));
      };
    case "all":
      return (data) => {
        const items = source(data);
        if (!Array.isArray(items) || items.length === 0) return false;
        for (const item of items) if (!truthy(scoped(item))) return false;
        return true;
      };
    case "some":
      return (data) => {
        const items = source(data);
        if (!Array.isArray(items) || items.length === 0) return false;
        for (const item of items) if (truthy(scoped(item))) return true;
        return false;
      };
    case "none":
      return (data) => {
        const items = source(data);
        if (!Array.isArray(items) || items.length === 0) return true;
        for (const item of items) if (truthy(scoped(item))) return false;
        return true;
      };
  }
}

/** The reducer sees `{current, accumulator}`; the initial value is null when not written. */
function compileReduce(operands: readonly unknown[]): Evaluate {
  const source = compileExpression(operands[0]);
  const scoped = compileExpression(operands[1]);
  const initial = operands[2] === undefined ? constant(null) : compileExpression(operands[2]);
  return (data) => {
    const items = asArray(source(data));
    const start = initial(data);
    if (items === undefined) return start;
    return items.reduce<unknown>((accumulator, current) => scoped({ current, accumulator }), start);
  };
}

/** Operands past the ones an operator reads: still evaluated (they may throw), unless constant. */
function extrasOf(operands: readonly Evaluate[], used: number): readonly Evaluate[] {
  return operands.slice(used).filter((operand) => !isConstant(operand));
}

function runAll(operands: readonly Evaluate[], data: unknown): void {
  for (const operand of operands) operand(data);
}

function compileVar(operands: readonly Evaluate[]): Evaluate {
  const path = operands[0] ?? constant(undefined);
  const fallback = operands[1] ?? constant(undefined);
  const extras = extrasOf(operands, 2);
  const literal = isConstant(path) ? path(undefined) : undefined;
  if (isConstant(path) && (literal === undefined || literal === null || literal === "")) {
    // The whole data: in scoped logic, the element (`{"some": [{"var": "tags"}, {"==": [{"var": ""}, "prod"]}]}`).
    const unused = extrasOf(operands, 1);
    if (unused.length === 0) return (data) => data;
    return (data) => {
      runAll(unused, data);
      return data;
    };
  }
  if (!isConstant(path) || !(typeof literal === "string" || typeof literal === "number")) {
    // A computed path, or an odd literal (an array is joined with commas by String()).
    return (data) => {
      const value = resolveVar(data, path(data), fallback(data));
      runAll(extras, data);
      return value;
    };
  }
  const resolve = pathResolver(String(literal));
  if (isConstant(fallback) && extras.length === 0) {
    const given = fallback(undefined);
    const notFound = given === undefined ? null : given;
    return (data) => resolve(data, notFound);
  }
  return (data) => {
    const given = fallback(data);
    runAll(extras, data);
    return resolve(data, given === undefined ? null : given);
  };
}

/**
 * json-logic-js re-applies each key as `{"var": key}`: a string or number key is just a path, but
 * an array key is read as `[path, default]` and an object key is read as logic — even when the key
 * came from the run's data. That rare case is compiled when met.
 */
function resolveKey(key: unknown, data: unknown): unknown {
  if (key === null || typeof key !== "object") return resolveVar(data, key, undefined);
  const parts = (Array.isArray(key) ? key : [key]).map((part: unknown) => compileExpression(part)(data));
  return resolveVar(data, parts[0], parts[1]);
}

/** The keys whose value is null or "" (a missing var is null). The first operand may be the key list. */
function missingKeys(values: readonly unknown[], data: unknown): unknown[] {
  const first = values[0];
  const keys: readonly unknown[] = Array.isArray(first) ? first : values;
  const missing: unknown[] = [];
  for (const key of keys) {
    const value = resolveKey(key, data);
    if (value === null || value === "") missing.push(key);
  }
  return missing;
}

function compileMissing(operands: readonly Evaluate[]): Evaluate {
  const literals = operands.every(isConstant) ? operands.map((operand) => operand(undefined)) : undefined;
  if (literals !== undefined && literals.every((key) => typeof key === "string" || typeof key === "number")) {
    // The common form, `{"missing": ["a", "b.c"]}`: paths resolved once, here.
    const keys = literals.map((key) => ({ key, resolve: pathResolver(String(key)) }));
    return (data) => {
      const missing: unknown[] = [];
      for (const { key, resolve } of keys) {
        const value = resolve(data, null);
        if (value === null || value === "") missing.push(key);
      }
      return missing;
    };
  }
  return compileEager(operands, missingKeys);
}

/**
 * `[need, keys]`: `[]` when at least `need` keys are present, else the missing ones. The key list is
 * re-applied as logic first; its `length` is read as is, so a null list throws, as upstream.
 */
function compileMissingSome(operands: readonly Evaluate[]): Evaluate {
  return compileEager(operands, ([need, options], data) => {
    const keys = (Array.isArray(options) ? options : [options]).map((option: unknown) =>
      option !== null && typeof option === "object" ? compileExpression(option)(data) : option,
    );
    const missing = missingKeys(keys, data);
    if ((options as { length: number }).length - missing.length >= (need as number)) return [];
    return missing;
  });
}
