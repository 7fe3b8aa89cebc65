import { charge, type Meter } from "./budget.js";
import { chargePath, compileEager, isConstant, type CompileLogic, type Evaluate } from "./evaluate.js";
import { pathResolver, resolveVar } from "./var-path.js";

/**
 * json-logic-js re-applies each key as `{"var": key}`: a string or number key is just a path, but
 * an array key is read as `[path, default]` and an object key is read as logic — even when the key
 * came from the run's data. That rare case is compiled when met, and its compiling and evaluating
 * are charged to the same meter (data from the run cannot escape the budget by being logic).
 */
function resolveKey(key: unknown, data: unknown, meter: Meter, compile: CompileLogic): unknown {
  charge(meter, 1);
  if (key === null || typeof key !== "object") {
    chargePath(meter, key);
    return resolveVar(data, key, undefined);
  }
  const parts = (Array.isArray(key) ? key : [key]).map((part: unknown) => compileAtRunTime(part, meter, compile)(data));
  chargePath(meter, parts[0]);
  return resolveVar(data, parts[0], parts[1]);
}

/** Compiles data read as logic, charging one step per JSON node compiled. */
function compileAtRunTime(logic: unknown, meter: Meter, compile: CompileLogic): Evaluate {
  chargeNodes(meter, logic);
  return compile(logic, meter);
}

function chargeNodes(meter: Meter, value: unknown): void {
  charge(meter, 1);
  if (typeof value !== "object" || value === null) return;
  for (const item of Object.values(value)) chargeNodes(meter, item);
}

/** The keys whose value is null or "" (a missing var is null). The first operand may be the key list. */
function missingKeys(values: readonly unknown[], data: unknown, meter: Meter, compile: CompileLogic): unknown[] {
  const first = values[0];
  const keys: readonly unknown[] = Array.isArray(first) ? first : values;
  const missing: unknown[] = [];
  for (const key of keys) {
    const value = resolveKey(key, data, meter, compile);
    if (value === null || value === "") missing.push(key);
  }
  return missing;
}

export function compileMissing(operands: readonly Evaluate[], meter: Meter, compile: CompileLogic): Evaluate {
  const literals = operands.every(isConstant) ? operands.map((operand) => operand(undefined)) : undefined;
  if (literals !== undefined && literals.every((key) => typeof key === "string" || typeof key === "number")) {
    // The common form, `{"missing": ["a", "b.c"]}`: paths resolved once, here.
    const keys = literals.map((key) => ({ key, resolve: pathResolver(String(key)) }));
    const steps = 1 + keys.length;
    return (data) => {
      charge(meter, steps);
      const missing: unknown[] = [];
      for (const { key, resolve } of keys) {
        const value = resolve(data, null);
        if (value === null || value === "") missing.push(key);
      }
      return missing;
    };
  }
  return compileEager(operands, meter, (values, data) => missingKeys(values, data, meter, compile));
}

/**
 * `[need, keys]`: `[]` when at least `need` keys are present, else the missing ones. The key list is
 * re-applied as logic first; its `length` is read as is, so a null list throws, as upstream.
 */
export function compileMissingSome(operands: readonly Evaluate[], meter: Meter, compile: CompileLogic): Evaluate {
  return compileEager(operands, meter, ([need, options], data) => {
    const keys = (Array.isArray(options) ? options : [options]).map((option: unknown) =>
      option !== null && typeof option === "object" ? compileAtRunTime(option, meter, compile)(data) : option,
    );
    const missing = missingKeys(keys, data, meter, compile);
    if ((options as { length: number }).length - missing.length >= (need as number)) return [];
    return missing;
  });
}
