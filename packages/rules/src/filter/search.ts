import { charge, stringSteps, type Meter } from "./budget.js";
import { type Evaluate } from "./evaluate.js";

/**
 * `{"search": [text, value, value, …]}`: whether `text` occurs, ignoring case, in some string inside
 * the values — the strings themselves, or any string within their arrays and objects at any depth
 * (object keys, numbers and booleans are not searched). A text that is not a non-empty string finds
 * nothing.
 *
 * Budget, charged before the work: one step for the operation; one per element or property pushed
 * on the walk (so a huge array is paid for before it is walked); per string, its string steps twice
 * (a lower-cased copy, then a scan). The walk keeps its own stack, so nesting depth cannot exhaust
 * the call stack: a run's depth is bounded only by the budget.
 */
export function compileSearch(operands: readonly Evaluate[], meter: Meter): Evaluate {
  const [needleOf, ...haystacks] = operands;
  return (data) => {
    const needle = needleOf === undefined ? undefined : needleOf(data);
    const values = haystacks.map((haystack) => haystack(data));
    charge(meter, 1);
    if (typeof needle !== "string" || needle === "") return false;
    charge(meter, stringSteps(needle.length));
    const lower = needle.toLowerCase();
    for (const value of values) if (contains(value, lower, meter)) return true;
    return false;
  };
}

function contains(root: unknown, needle: string, meter: Meter): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === "string") {
      charge(meter, 2 * stringSteps(value.length));
      if (value.toLowerCase().includes(needle)) return true;
    } else if (Array.isArray(value)) {
      charge(meter, 1 + value.length);
      for (const item of value as readonly unknown[]) stack.push(item);
    } else if (typeof value === "object" && value !== null) {
      charge(meter, 1);
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        charge(meter, 1);
        stack.push((value as Record<string, unknown>)[key]);
      }
    }
  }
  return false;
}
