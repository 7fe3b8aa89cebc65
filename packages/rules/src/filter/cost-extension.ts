import { SCALAR, constantBound, isScalarLiteral, sum, type Bound, type Scope } from "./cost-shape.js";
import { parseLikePattern } from "./like.js";

/**
 * The static bounds of the extension operators (operators.ts), with the charges their compiled forms
 * make (like.ts, search.ts, entries.ts, instant-op.ts). As elsewhere in the model, a value read from
 * the run is assumed to take `dataLength` steps and hold `dataLength` elements; for the operators that
 * walk a value (`search`, `some_entry`) that means `dataLength` keys, elements and values in all, and
 * `dataLength` steps of text.
 */

/** `like`, `search` and `instant`, which see only their evaluated operands; undefined for others. */
export function extensionBound(op: string, operands: readonly unknown[], bounds: readonly Bound[]): Bound | undefined {
  const inner = sum(bounds.map((b) => b.cost));
  const steps = (i: number): number => bounds[i]?.value.steps ?? 1;
  switch (op) {
    case "like": {
      const pattern = operands[1];
      // A pattern of n characters makes at most n + 1 scans; one computed at run time is parsed first.
      const weight = typeof pattern === "string" ? parseLikePattern(pattern).weight : 16 * steps(1);
      const parse = typeof pattern === "string" ? 0 : steps(1);
      return scalar(1 + inner + parse + steps(0) * weight);
    }
    case "search": {
      // Per value walked: a step per element or property, and each string twice (lower-cased, scanned).
      const walks = bounds.slice(1).map((b) => 2 + 3 * (b.value.steps + b.value.length));
      return scalar(1 + inner + steps(0) + sum(walks));
    }
    case "instant":
      return scalar(1 + inner + (isScalarLiteral(operands[0]) ? 0 : steps(0)));
    default:
      return undefined;
  }
}

/**
 * `some_entry`: the entry logic runs once per entry, with an entry (its key and value) as large as
 * the object; each entry also pays for its key and a share of the arrays it sits in.
 */
export function someEntryBound(
  operands: readonly unknown[],
  scope: Scope,
  times: number,
  bound: (index: number, scope: Scope, times: number) => Bound,
): Bound {
  const source = bound(0, scope, times);
  const n = source.value.length;
  const body = operands.length > 1 ? bound(1, { kind: "element", element: source.value }, times * n) : constantBound();
  return { cost: 1 + source.cost + n * (3 + source.value.steps + body.cost), value: SCALAR, element: SCALAR };
}

function scalar(cost: number): Bound {
  return { cost, value: SCALAR, element: SCALAR };
}
