import { charge, type Meter } from "./budget.js";
import { asArray, type Evaluate } from "./evaluate.js";
import { truthy } from "./operators.js";

/**
 * `filter`, `map`, `all`, `some`, `none`: the second operand runs once per element, with the element
 * as its data. A non-array source is `[]` for filter and map; `all` of nothing is false, `none` true.
 * Budget: one step for the operation, one per element iterated (and, for filter and map, created).
 */
export function compileScoped(
  op: "filter" | "map" | "all" | "some" | "none",
  source: Evaluate,
  scoped: Evaluate,
  meter: Meter,
): Evaluate {
  switch (op) {
    case "filter":
      return (data) => {
        const items = asArray(source(data));
        charge(meter, 1 + (items === undefined ? 0 : items.length));
        return items === undefined ? [] : items.filter((item) => truthy(scoped(item)));
      };
    case "map":
      return (data) => {
        const items = asArray(source(data));
        charge(meter, 1 + (items === undefined ? 0 : items.length));
        return items === undefined ? [] : items.map((item) => scoped(item));
      };
    case "all":
      return (data) => {
        const items = source(data);
        charge(meter, 1);
        if (!Array.isArray(items) || items.length === 0) return false;
        for (const item of items) {
          charge(meter, 1);
          if (!truthy(scoped(item))) return false;
        }
        return true;
      };
    case "some":
      return (data) => {
        const items = source(data);
        charge(meter, 1);
        if (!Array.isArray(items) || items.length === 0) return false;
        for (const item of items) {
          charge(meter, 1);
          if (truthy(scoped(item))) return true;
        }
        return false;
      };
    case "none":
      return (data) => {
        const items = source(data);
        charge(meter, 1);
        if (!Array.isArray(items) || items.length === 0) return true;
        for (const item of items) {
          charge(meter, 1);
          if (truthy(scoped(item))) return false;
        }
        return true;
      };
  }
}

/**
 * The reducer sees `{current, accumulator}`; the initial value is null when not written. Budget: one
 * step for the operation and one per element (the scope object); what the reducer builds is charged
 * by the reducer's own operations (`merge`, `cat`), so an accumulator that doubles runs out quickly.
 */
export function compileReduce(source: Evaluate, scoped: Evaluate, initial: Evaluate, meter: Meter): Evaluate {
  return (data) => {
    const items = asArray(source(data));
    const start = initial(data);
    charge(meter, 1);
    if (items === undefined) return start;
    let accumulator = start;
    for (const current of items) {
      charge(meter, 1);
      accumulator = scoped({ current, accumulator });
    }
    return accumulator;
  };
}
