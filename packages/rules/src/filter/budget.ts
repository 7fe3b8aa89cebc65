/**
 * The per-evaluation budget of a compiled filter, counted in steps and elements, never in time, so
 * that a replay reaches exactly the same verdict as the first pass.
 *
 * One step is one operation evaluated, one array element iterated, created or copied, or
 * `CHARS_PER_STEP` characters of a string built, searched or coerced. Every operation charges its
 * steps BEFORE doing the work, so exhausting the budget aborts before the allocation it would pay for.
 */

/** Steps one evaluation of a filter may take; the static bound (`filterCost`) uses the same unit. */
export const DEFAULT_FILTER_STEPS = 100_000;

/** Characters of a string that count as one step (copying or scanning them is one memcpy-like pass). */
export const CHARS_PER_STEP = 16;

/** Steps left in the current evaluation; the compiled filter resets `left` before each one. */
export interface Meter {
  left: number;
}

/**
 * Thrown (one preallocated instance, so the hot path allocates nothing) when the budget runs out;
 * only the compiled filter's entry point catches it, and turns it into the verdict "error".
 */
export class BudgetExhausted extends Error {
  constructor() {
    super("the filter's evaluation budget ran out");
    this.name = "BudgetExhausted";
  }
}
export const EXHAUSTED = new BudgetExhausted();

/** A meter that never runs out, for evaluations bounded elsewhere (json-logic-js differential tests). */
export function unmetered(): Meter {
  return { left: Number.POSITIVE_INFINITY };
}

/** Charges `steps` (≥ 0); throws `EXHAUSTED` when the meter goes below zero. */
export function charge(meter: Meter, steps: number): void {
  if ((meter.left -= steps) < 0) throw EXHAUSTED;
}

/** Steps for a string of `length` characters: at least one. */
export function stringSteps(length: number): number {
  return 1 + Math.floor(length / CHARS_PER_STEP);
}

/**
 * Charges what coercing a value to a string costs (`String(value)`, `join`): its characters, and for
 * an array each element, recursively. The walk is charged as it goes, so an array that shares itself
 * a million times over is cut off after the budget, not walked in full. Objects that are not arrays
 * become "[object Object]" without being walked.
 */
export function chargeText(meter: Meter, value: unknown): void {
  if (typeof value === "string") {
    charge(meter, stringSteps(value.length));
  } else if (Array.isArray(value)) {
    charge(meter, 1 + value.length);
    for (const item of value as readonly unknown[])
      if (typeof item === "object" && item !== null) chargeText(meter, item);
      else if (typeof item === "string" && item.length >= CHARS_PER_STEP) charge(meter, stringSteps(item.length));
  } else {
    charge(meter, 1);
  }
}

/** Charges the coercion of an operand that may be an array (a comparison, arithmetic, `min`…). */
export function chargeOperand(meter: Meter, value: unknown): void {
  if (typeof value === "object" && value !== null) chargeText(meter, value);
}

/** Steps for searching or copying a value's elements or characters (`in`, `merge`): its length. */
export function lengthSteps(value: unknown): number {
  if (typeof value === "string") return stringSteps(value.length);
  if (Array.isArray(value)) return 1 + value.length;
  return 1;
}
