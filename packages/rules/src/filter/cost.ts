import { formatPath } from "@runhooks/contracts";
import { DEFAULT_FILTER_STEPS, stringSteps } from "./budget.js";
import { extensionBound, someEntryBound } from "./cost-extension.js";
import { isOperation, operationParts } from "./expression.js";
import {
  SCALAR,
  constantBound,
  isScalarLiteral,
  maxShape,
  sum,
  type Bound,
  type Scope,
  type Shape,
} from "./cost-shape.js";

/**
 * The static cost bound of a filter: an upper bound on the steps (budget.ts's unit) one evaluation
 * takes, computed from the expression alone. Literal arrays count their real size; anything read
 * from the run counts as `dataLength` elements / steps (a run's arrays and strings are bounded by the
 * run's size, which is far larger; beyond this assumption the per-evaluation budget is what holds).
 *
 * Iteration multiplies: the logic a `some`/`all`/`none`/`filter`/`map`/`reduce` runs per element
 * costs once per element of its source, and an element is as large as its source's elements. A
 * `reduce` whose reducer uses the accumulator more than once in what it returns (`merge` or `cat` of
 * it with itself) doubles per element: refused whatever the sizes.
 */
export interface CostLimits {
  /** Steps one evaluation may take at most, by this bound. */
  readonly maxSteps: number;
  /** Elements (and steps to coerce) assumed for any array or string read from the run. */
  readonly dataLength: number;
}

export const DEFAULT_COST_LIMITS: CostLimits = { maxSteps: DEFAULT_FILTER_STEPS, dataLength: 16 };

export type CostOutcome =
  | { readonly ok: true; readonly steps: number }
  /** `path` is where the cost concentrates (the smallest part that alone exceeds the limit). */
  | { readonly ok: false; readonly steps: number; readonly path: string; readonly message: string };

/** Models more than this many expression nodes (nested reduces are modelled several times): refused. */
const MAX_MODEL_NODES = 200_000;

class Refused extends Error {
  constructor(
    readonly path: string,
    readonly why: string,
  ) {
    super(why);
  }
}

interface Visit {
  readonly path: readonly PropertyKey[];
  /** How many times per evaluation this part runs (the product of the iterations around it). */
  readonly times: number;
  readonly cost: number;
  readonly iterating: boolean;
}

/** The cost bound of a structurally valid filter, or why it is refused (path and bound). */
export function filterCost(filter: unknown, limits: Partial<CostLimits> = {}): CostOutcome {
  const model = new Model({ ...DEFAULT_COST_LIMITS, ...limits });
  let bound: Bound;
  try {
    bound = model.bound(filter, { kind: "run" }, ["filter"], 1, true);
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    return { ok: false, steps: Number.POSITIVE_INFINITY, path: error.path, message: error.why };
  }
  const steps = bound.cost;
  const max = model.limits.maxSteps;
  if (steps <= max) return { ok: true, steps };
  // Blame the deepest iteration that costs more than `max` in all (or, with none, the deepest part).
  let blamed: Visit | undefined;
  for (const visit of model.visits) {
    if (visit.times * visit.cost <= max) continue;
    if (
      blamed === undefined ||
      (visit.iterating && !blamed.iterating) ||
      (visit.iterating === blamed.iterating && visit.path.length > blamed.path.length)
    ) {
      blamed = visit;
    }
  }
  const what = blamed?.iterating || (blamed?.times ?? 1) > 1 ? "nested iteration costs" : "costs";
  return {
    ok: false,
    steps,
    path: formatPath(blamed?.path ?? ["filter"]),
    message: `${what} up to ${count(steps)} steps per run; the limit is ${count(max)}`,
  };
}

function count(n: number): string {
  return Number.isFinite(n) && n < 1e15 ? Math.ceil(n).toLocaleString("en-US") : n.toExponential(2);
}

const ITERATING = new Set(["some", "all", "none", "filter", "map", "reduce", "some_entry"]);
/** Operators whose result is one number or boolean. */
const SCALAR_RESULT = new Set([
  "==",
  "===",
  "!=",
  "!==",
  ">",
  ">=",
  "<",
  "<=",
  "!",
  "!!",
  "in",
  "+",
  "-",
  "/",
  "%",
  "min",
  "max",
  "some",
  "all",
  "none",
]);

class Model {
  readonly visits: Visit[] = [];
  private nodes = 0;

  constructor(readonly limits: CostLimits) {}

  /** The bound of `logic` evaluated `times` times per run; `record` keeps the visit for blame. */
  bound(logic: unknown, scope: Scope, path: readonly PropertyKey[], times: number, record: boolean): Bound {
    if ((this.nodes += 1) > MAX_MODEL_NODES)
      throw new Refused(formatPath(path), "is too complex to bound its cost (reduce nested in reduce?)");
    const result = this.compute(logic, scope, path, times, record);
    if (record && typeof logic === "object" && logic !== null) {
      const op = isOperation(logic) ? operationParts(logic).op : "";
      this.visits.push({ path, times, cost: result.cost, iterating: ITERATING.has(op) });
    }
    return result;
  }

  private data(): Shape {
    return { steps: this.limits.dataLength, length: this.limits.dataLength };
  }

  private compute(logic: unknown, scope: Scope, path: readonly PropertyKey[], times: number, record: boolean): Bound {
    if (Array.isArray(logic)) {
      const items = logic.map((item: unknown, i) => this.bound(item, scope, [...path, i], times, record));
      const built = items.some((item) => item.cost > 0);
      // Coercing it (budget.ts `chargeText`): a step per element, and the steps of large elements.
      const steps = 1 + items.length + sum(items.map((item) => (item.value.steps > 1 ? item.value.steps : 0)));
      return {
        // A literal array is built once at compile time; one with an operation in it, per evaluation.
        cost: built ? steps + sum(items.map((item) => item.cost)) : 0,
        value: { steps, length: items.length },
        element: maxShape(items.map((item) => item.value)),
      };
    }
    if (!isOperation(logic)) {
      const steps = typeof logic === "string" ? stringSteps(logic.length) : 1;
      return { cost: 0, value: { steps, length: 0 }, element: SCALAR };
    }
    const { op, operands, listed } = operationParts(logic);
    const at = (index: number): readonly PropertyKey[] => (listed ? [...path, op, index] : [...path, op]);
    const each = (subScope: Scope, subTimes: number, from = 0): Bound[] =>
      operands.slice(from).map((operand, i) => this.bound(operand, subScope, at(from + i), subTimes, record));
    switch (op) {
      case "var":
        return this.variable(each(scope, times), operands[0], scope);
      case "some":
      case "all":
      case "none":
      case "filter":
      case "map": {
        const source = this.bound(operands[0], scope, at(0), times, record);
        const n = source.value.length;
        const body =
          operands.length > 1
            ? this.bound(operands[1], { kind: "element", element: source.element }, at(1), times * n, record)
            : constantBound();
        const cost = 1 + source.cost + n * (1 + body.cost);
        if (op === "map")
          return { cost, value: { steps: 1 + n + n * body.value.steps, length: n }, element: body.value };
        if (op === "filter") return { cost, value: source.value, element: source.element };
        return { cost, value: SCALAR, element: SCALAR };
      }
      case "reduce":
        return this.reduce(operands, scope, at, times, record);
      case "some_entry":
        return someEntryBound(operands, scope, times, (i, sub, t) => this.bound(operands[i], sub, at(i), t, record));
      default:
        return this.valueOperation(op, operands, each(scope, times));
    }
  }

  /** A `var`: a run field (data), or in per-element logic, a part of the element or accumulator. */
  private variable(operands: readonly Bound[], pathLiteral: unknown, scope: Scope): Bound {
    const [path, fallback] = operands;
    let shape: Shape;
    if (scope.kind === "run") shape = this.data();
    else if (scope.kind === "element") shape = scope.element;
    else {
      const text = typeof pathLiteral === "string" ? pathLiteral : undefined;
      if (text?.startsWith("accumulator")) shape = scope.accumulator;
      else if (text?.startsWith("current")) shape = scope.current;
      else shape = maxShape([scope.accumulator, scope.current]);
      // The whole `{current, accumulator}`, or a path computed at run time: either of them.
      if (text === "" || text === undefined)
        shape = {
          steps: scope.accumulator.steps + scope.current.steps,
          length: Math.max(scope.accumulator.length, scope.current.length),
        };
    }
    if (fallback !== undefined) shape = maxShape([shape, fallback.value]);
    // A computed path (or a literal array one) is stringified and split.
    const pathSteps = path !== undefined && !isScalarLiteral(pathLiteral) ? path.value.steps : 0;
    return { cost: 1 + pathSteps + sum(operands.map((o) => o.cost)), value: shape, element: shape };
  }

  private reduce(
    operands: readonly unknown[],
    scope: Scope,
    at: (index: number) => readonly PropertyKey[],
    times: number,
    record: boolean,
  ): Bound {
    const source = this.bound(operands[0], scope, at(0), times, record);
    const initial = operands.length > 2 ? this.bound(operands[2], scope, at(2), times, record) : constantBound();
    const n = source.value.length;
    const reducer = (accumulator: Shape, keep: boolean): Bound =>
      operands.length > 1
        ? this.bound(operands[1], { kind: "reduce", current: source.element, accumulator }, at(1), times * n, keep)
        : constantBound();
    // The reducer's result grows with the accumulator by a factor: probe it with a large accumulator.
    const start = initial.value;
    const probe = 1e9;
    const small = reducer(start, false);
    const large = reducer({ steps: start.steps + probe, length: start.length + probe }, false);
    const factor = (large.value.steps - small.value.steps) / probe;
    if (factor >= 1.5) {
      const uses = factor < 100 ? `${Math.round(factor)} times` : "many times over";
      throw new Refused(
        formatPath(at(1)),
        `returns the accumulator ${uses} (merge or cat of it with itself?), so it grows exponentially with the elements; a reducer may use the accumulator once in what it returns`,
      );
    }
    // What one element adds to a large accumulator: 0 when the reducer picks (`or`, `max`, `if`)
    // rather than builds; NaN when the bounds are already infinite (then refused by the limit).
    const addsSteps = large.value.steps - (start.steps + probe);
    const addsLength = large.value.length - (start.length + probe);
    const steps =
      Math.max(start.steps, small.value.steps) +
      n * (Number.isNaN(addsSteps) ? Number.POSITIVE_INFINITY : Math.max(0, addsSteps));
    const length =
      Math.max(start.length, small.value.length) +
      n * (Number.isNaN(addsLength) ? Number.POSITIVE_INFINITY : Math.max(0, addsLength));
    const last = reducer({ steps, length }, record);
    // The accumulator grows evenly from its first size to its last, and a step's cost is convex in
    // its size (sums, maxima, products): the mean of the first and last costs bounds the mean cost.
    return {
      cost: 1 + source.cost + initial.cost + n * (1 + (small.cost + last.cost) / 2),
      value: { steps: Math.max(steps, last.value.steps), length: Math.max(length, last.value.length) },
      element: maxShape([start, last.element, source.element]),
    };
  }

  /** Operators that see only their evaluated operands, with the charges compile.ts makes. */
  private valueOperation(op: string, operands: readonly unknown[], bounds: readonly Bound[]): Bound {
    const inner = sum(bounds.map((b) => b.cost));
    // An operand that may be an array (anything but a scalar literal) is coerced at its size.
    const coerced = sum(bounds.map((b, i) => (isScalarLiteral(operands[i]) ? 0 : b.value.steps)));
    const all = sum(bounds.map((b) => b.value.steps));
    switch (op) {
      case "and":
      case "or":
      case "if":
      case "?:":
        return {
          cost: 1 + inner,
          value: maxShape(bounds.map((b) => b.value).concat(SCALAR)),
          element: maxShape(bounds.map((b) => b.element)),
        };
      case "cat":
        return { cost: 1 + inner + all, value: { steps: 1 + all, length: 0 }, element: SCALAR };
      case "substr":
        return { cost: 1 + inner + (bounds[0]?.value.steps ?? 1), value: bounds[0]?.value ?? SCALAR, element: SCALAR };
      case "merge": {
        const length = sum(bounds.map((b) => Math.max(1, b.value.length)));
        return {
          cost: 1 + inner + all,
          value: { steps: 1 + all, length },
          element: maxShape(bounds.map((b) => b.value)),
        };
      }
      case "in":
        // The first operand is coerced if it is an array; the second is searched whatever it is.
        return {
          cost:
            1 +
            inner +
            (isScalarLiteral(operands[0]) ? 0 : (bounds[0]?.value.steps ?? 0)) +
            (bounds[1]?.value.steps ?? 0),
          value: SCALAR,
          element: SCALAR,
        };
      case "missing":
      case "missing_some": {
        // Keys may come from the run, and are then read as paths or even as logic.
        const keys = sum(bounds.map((b) => b.value.steps));
        return {
          cost: 1 + inner + 3 * keys,
          value: { steps: 1 + keys, length: keys },
          element: maxShape(bounds.map((b) => b.value)),
        };
      }
      case "!":
      case "!!":
        // One operand is only tested for truthiness; more take the generic path, which coerces.
        if (bounds.length === 1) return { cost: 1 + inner, value: SCALAR, element: SCALAR };
        return { cost: 1 + inner + coerced, value: SCALAR, element: SCALAR };
      case "*":
        // One operand comes back as it is (json-logic-js reduces without an initial value).
        return {
          cost: 1 + inner + coerced,
          value: bounds.length === 1 ? bounds[0]!.value : SCALAR,
          element: bounds.length === 1 ? bounds[0]!.element : SCALAR,
        };
      default: {
        if (SCALAR_RESULT.has(op)) return { cost: 1 + inner + coerced, value: SCALAR, element: SCALAR };
        const extension = extensionBound(op, operands, bounds);
        if (extension !== undefined) return extension;
        // `log` (refused by validation), or an operator the model does not know: its operand, bounded.
        return {
          cost: 1 + inner + all,
          value: maxShape(bounds.map((b) => b.value)),
          element: maxShape(bounds.map((b) => b.element)),
        };
      }
    }
  }
}
