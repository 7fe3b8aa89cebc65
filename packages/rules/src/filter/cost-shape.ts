/** The value shapes and bounds the static cost model (cost.ts) computes with. */

/** A value's size bound: `steps` to coerce or copy it (≥ its length), `length` if it is an array. */
export interface Shape {
  readonly steps: number;
  readonly length: number;
}

export interface Bound {
  /** Steps one evaluation of the expression takes. */
  readonly cost: number;
  readonly value: Shape;
  /** Bound on each element, if the value is an array. */
  readonly element: Shape;
}

/** What per-element logic reads: the element, or a reduce's `{current, accumulator}`. */
export type Scope =
  | { readonly kind: "run" }
  | { readonly kind: "element"; readonly element: Shape }
  | { readonly kind: "reduce"; readonly current: Shape; readonly accumulator: Shape };

export const SCALAR: Shape = { steps: 1, length: 0 };

export function constantBound(): Bound {
  return { cost: 0, value: SCALAR, element: SCALAR };
}

export function isScalarLiteral(value: unknown): boolean {
  return value === null || (typeof value !== "object" && typeof value !== "undefined");
}

export function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

export function maxShape(shapes: readonly Shape[]): Shape {
  let steps = 1;
  let length = 0;
  for (const shape of shapes) {
    if (shape.steps > steps) steps = shape.steps;
    if (shape.length > length) length = shape.length;
  }
  return { steps, length };
}
