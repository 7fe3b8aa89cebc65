import { charge, stringSteps, type Meter } from "./budget.js";
import { constant, isConstant, type Evaluate } from "./evaluate.js";
import { instantMicros } from "./instant.js";

/**
 * `{"instant": [value]}`: the timestamp as microseconds since the epoch, so that `<`, `==` and the
 * rest compare instants rather than text (`…56Z` and `…56.5+00:00`). NaN when the value is not a
 * timestamp. Budget: one step and the string's steps; a literal is converted once, when compiled.
 */
export function compileInstant(operands: readonly Evaluate[], meter: Meter): Evaluate {
  const value = operands[0] ?? constant(undefined);
  if (isConstant(value)) return constant(instantMicros(value(undefined)));
  return (data) => {
    const text = value(data);
    charge(meter, typeof text === "string" ? 1 + stringSteps(text.length) : 1);
    return instantMicros(text);
  };
}
