import { charge, chargeOperand, stringSteps, type Meter } from "./budget.js";

/** Evaluates one sub-expression against the data in scope (the run's facts, or an array element). */
export type Evaluate = (data: unknown) => unknown;

/** Compiles logic (or data read as logic) with every evaluation charged to `meter`. */
export type CompileLogic = (logic: unknown, meter: Meter) => Evaluate;

/** `Array.isArray` without the `any[]` it narrows `unknown` to. */
export function asArray(value: unknown): readonly unknown[] | undefined {
  return Array.isArray(value) ? (value as readonly unknown[]) : undefined;
}

const constants = new WeakSet<Evaluate>();

export function constant(value: unknown): Evaluate {
  const evaluate: Evaluate = () => value;
  constants.add(evaluate);
  return evaluate;
}

export function isConstant(evaluate: Evaluate): boolean {
  return constants.has(evaluate);
}

/**
 * json-logic-js evaluates every operand before applying an operator, even unused ones (which may
 * throw). One step for the operation; `apply` charges its own work.
 */
export function compileEager(
  operands: readonly Evaluate[],
  meter: Meter,
  apply: (values: unknown[], data: unknown) => unknown,
): Evaluate {
  return (data) => {
    const values = operands.map((operand) => operand(data));
    charge(meter, 1);
    return apply(values, data);
  };
}

/** A path computed at run time is stringified and split: its characters are charged. */
export function chargePath(meter: Meter, path: unknown): void {
  if (typeof path === "string") charge(meter, stringSteps(path.length));
  else chargeOperand(meter, path);
}
