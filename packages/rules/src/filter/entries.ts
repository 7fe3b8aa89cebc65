import { charge, stringSteps, type Meter } from "./budget.js";
import type { Evaluate } from "./evaluate.js";
import { truthy } from "./operators.js";

/**
 * `{"some_entry": [object, logic, depth?]}`: whether `logic` holds for some key/value entry of the
 * object, evaluated with `{"key": …, "value": …}` as its data (so it reads `{"var": "key"}` and
 * `{"var": "value"}`). This is how LangSmith's `metadata_key`/`metadata_value` and
 * `input_key`/`input_value` pairs speak of one entry.
 *
 * The entries: every property at every level down to `depth` levels of keys (all levels when not
 * given), keyed by its dotted path (`messages.content`); the value of a property holding an object is
 * that object, and the object's own properties are entries one level down. Arrays are transparent: each
 * element is an entry under the array's key (nested arrays flattened), an object element's properties
 * are entries below it, and an empty array is one entry whose value is `[]`. A value that is not a
 * plain object has no entries.
 *
 * Budget, charged before the work: one step for the operation; per entry, one step and the string
 * steps of its key (the dotted path is built); per array, one step per element; `logic` charges its
 * own. The walk keeps its own stack, so nesting depth cannot exhaust the call stack.
 */
export function compileSomeEntry(source: Evaluate, logic: Evaluate, depth: number, meter: Meter): Evaluate {
  return (data) => {
    const root = source(data);
    charge(meter, 1);
    if (!isObject(root)) return false;
    const frames: Frame[] = [{ prefix: "", object: root, level: 1 }];
    const test = (key: string, value: unknown): boolean => truthy(logic({ key, value }));
    for (let frame = frames.pop(); frame !== undefined; frame = frames.pop()) {
      for (const name in frame.object) {
        if (!Object.hasOwn(frame.object, name)) continue;
        const key = frame.prefix === "" ? name : `${frame.prefix}.${name}`;
        charge(meter, 1 + stringSteps(key.length));
        const below = frame.level < depth ? frame.level + 1 : 0;
        if (visit(key, frame.object[name], below, frames, test, meter)) return true;
      }
    }
    return false;
  };
}

interface Frame {
  readonly prefix: string;
  readonly object: Readonly<Record<string, unknown>>;
  readonly level: number;
}

/**
 * Tests the entries one property gives (its value, or each element of an array value) and queues the
 * objects among them to be walked at `level` (0: not walked, the depth is reached).
 */
function visit(
  key: string,
  value: unknown,
  level: number,
  frames: Frame[],
  test: (key: string, value: unknown) => boolean,
  meter: Meter,
): boolean {
  if (!Array.isArray(value)) {
    if (test(key, value)) return true;
    if (level > 0 && isObject(value)) frames.push({ prefix: key, object: value, level });
    return false;
  }
  if (value.length === 0) return test(key, value);
  const pending: unknown[] = [value];
  for (let items = pending.pop(); items !== undefined; items = pending.pop()) {
    const list = items as readonly unknown[];
    charge(meter, 1 + list.length);
    for (const item of list) {
      if (Array.isArray(item) && item.length > 0) pending.push(item);
      else {
        if (test(key, item)) return true;
        if (level > 0 && isObject(item)) frames.push({ prefix: key, object: item, level });
      }
    }
  }
  return false;
}

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
