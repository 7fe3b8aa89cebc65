import type { Meter } from "./budget.js";
import { compileSomeEntry } from "./entries.js";
import type { Evaluate } from "./evaluate.js";
import { compileInstant } from "./instant-op.js";
import { compileLike } from "./like.js";
import { compileSearch } from "./search.js";

/** Compiles an extension operator (operators.ts), or undefined when `op` is not one. */
export function compileExtension(
  op: string,
  operands: readonly unknown[],
  compile: (operand: unknown) => Evaluate,
  meter: Meter,
): Evaluate | undefined {
  switch (op) {
    case "like":
      return compileLike(operands.map(compile), meter);
    case "search":
      return compileSearch(operands.map(compile), meter);
    case "instant":
      return compileInstant(operands.map(compile), meter);
    case "some_entry": {
      // Validation makes the depth a positive whole number when it is written.
      const depth = typeof operands[2] === "number" ? operands[2] : Number.POSITIVE_INFINITY;
      return compileSomeEntry(compile(operands[0]), compile(operands[1] ?? false), depth, meter);
    }
    default:
      return undefined;
  }
}
