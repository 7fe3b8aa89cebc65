import { formatPath, type FieldIssue, type ParseResult } from "@runhooks/contracts";
import { DEFAULT_COST_LIMITS, filterCost } from "./cost.js";
import { isOperation, operationParts, type JsonLogicExpression } from "./expression.js";
import { isFilterOperator } from "./operators.js";
import { forbiddenSegment } from "./var-path.js";

/**
 * Bounds on a filter, so that one rule cannot make every run expensive. Depth counts expressions:
 * each operation and each literal array is one level (an operator's operand list is not).
 */
export interface FilterLimits {
  readonly maxDepth: number;
  readonly maxNodes: number;
  /** Size of the filter's JSON text in UTF-8 bytes. */
  readonly maxBytes: number;
  /** The static cost bound (cost.ts): steps one evaluation may take, by the bound. */
  readonly maxSteps: number;
  /** Elements the cost bound assumes for an array or string read from the run. */
  readonly dataLength: number;
}

export const DEFAULT_FILTER_LIMITS: FilterLimits = {
  maxDepth: 32,
  maxNodes: 2000,
  maxBytes: 64 * 1024,
  ...DEFAULT_COST_LIMITS,
};

/** Issues name the offending place from the rule document's root: `filter.and[1].==[0].var`. */
const ROOT = "filter";

/**
 * Checks a filter's JSON-logic tree on write: only accepted operators, no `var` path through
 * `__proto__`, `constructor` or `prototype`, no operator form that cannot be evaluated at all, and
 * within the limits, the static cost bound included (cost.ts). Every problem is reported with its
 * path. A bare literal passes here (`true` matches every run); what a rule may hold as its filter —
 * a LangSmith string, and no bare number or array — is `resolveFilter`'s to say.
 */
export function validateFilter(filter: unknown, limits: Partial<FilterLimits> = {}): ParseResult<JsonLogicExpression> {
  const walk = new Walk({
    maxDepth: limits.maxDepth ?? DEFAULT_FILTER_LIMITS.maxDepth,
    maxNodes: limits.maxNodes ?? DEFAULT_FILTER_LIMITS.maxNodes,
    maxBytes: limits.maxBytes ?? DEFAULT_FILTER_LIMITS.maxBytes,
    maxSteps: limits.maxSteps ?? DEFAULT_FILTER_LIMITS.maxSteps,
    dataLength: limits.dataLength ?? DEFAULT_FILTER_LIMITS.dataLength,
  });
  walk.visit(filter, [ROOT], 1);
  // Only a walk that saw all of a finite, JSON-only value may serialise it.
  if (walk.complete) {
    const bytes = utf8Length(JSON.stringify(filter));
    if (bytes > walk.limits.maxBytes) {
      walk.issue([ROOT], `is ${bytes} bytes as JSON; the limit is ${walk.limits.maxBytes}`);
    }
  }
  // Only a filter valid in every other way is costed (the model reads operators as compile.ts does).
  if (walk.issues.length === 0) {
    const cost = filterCost(filter, walk.limits);
    if (!cost.ok) walk.issue([], cost.message, cost.path);
  }
  if (walk.issues.length > 0) return { ok: false, issues: walk.issues };
  return { ok: true, value: filter as JsonLogicExpression };
}

type Path = readonly PropertyKey[];

class Walk {
  readonly issues: FieldIssue[] = [];
  /** False once part of the value was skipped (too deep, too many nodes) or is not JSON. */
  complete = true;
  private nodes = 0;
  private reportedDepth = false;

  constructor(readonly limits: FilterLimits) {}

  issue(path: Path, message: string, formatted: string = formatPath(path)): void {
    this.issues.push({ path: formatted, message });
  }

  visit(value: unknown, path: Path, depth: number): void {
    if (!this.complete && this.nodes > this.limits.maxNodes) return;
    this.nodes += 1;
    if (this.nodes > this.limits.maxNodes) {
      this.complete = false;
      this.issue([ROOT], `has more than ${this.limits.maxNodes} nodes`);
      return;
    }
    if (depth > this.limits.maxDepth) {
      // A cyclic value is caught here too, before it can exhaust the stack.
      this.complete = false;
      if (!this.reportedDepth) this.issue(path, `nests deeper than ${this.limits.maxDepth} levels`);
      this.reportedDepth = true;
      return;
    }
    switch (typeof value) {
      case "string":
      case "boolean":
        return;
      case "number":
        if (!Number.isFinite(value)) this.notJson(path, "must be a finite number");
        return;
      case "object":
        if (value === null) return;
        if (Array.isArray(value)) {
          value.forEach((item, index) => this.visit(item, [...path, index], depth + 1));
          return;
        }
        if (!isPlainObject(value)) {
          this.notJson(path, "must be JSON (a plain object, array, string, number, boolean or null)");
          return;
        }
        this.operation(value, path, depth);
        return;
      default:
        this.notJson(path, `must be JSON, not ${typeof value}`);
    }
  }

  private notJson(path: Path, message: string): void {
    this.complete = false;
    this.issue(path, message);
  }

  private operation(value: Readonly<Record<string, unknown>>, path: Path, depth: number): void {
    if (!isOperation(value)) {
      const count = Object.keys(value).length;
      this.issue(
        path,
        `must be an operation: an object with exactly one operator key (found ${count === 0 ? "none" : `${count}: ${Object.keys(value).join(", ")}`})`,
      );
      return;
    }
    const { op, operands, listed } = operationParts(value);
    const opPath = [...path, op];
    if (!isFilterOperator(op)) {
      this.issue(
        opPath,
        op === "log" || op === "method" ? `operator "${op}" is not allowed in filters` : `unknown operator "${op}"`,
      );
      return;
    }
    const at = (index: number): Path => (listed ? [...opPath, index] : opPath);
    switch (op) {
      case "var":
        this.pathLiteral(operands[0], at(0));
        break;
      case "missing":
        operands.forEach((operand, index) => this.pathLiteral(operand, at(index)));
        break;
      case "missing_some":
        // json-logic-js reads the key list's length: without one it throws on every run.
        if (operands.length < 2) this.issue(opPath, "needs two operands: a minimum count and a list of keys");
        else if (operands[1] === null) this.issue(at(1), "must be a list of keys");
        this.pathLiteral(operands[1], at(1));
        break;
      case "*":
        // Upstream reduces the operands without an initial value: none throws on every run.
        if (operands.length === 0) this.issue(opPath, "needs at least one operand");
        break;
      default: {
        const problem = extensionArity(op, operands);
        if (problem !== undefined) this.issue(problem.at === undefined ? opPath : at(problem.at), problem.message);
        break;
      }
    }
    operands.forEach((operand, index) => this.visit(operand, at(index), depth + 1));
  }

  /**
   * Refuses a forbidden segment in a `var` or `missing` path written as a literal: a string, or a
   * literal array (json-logic-js turns an array path into a string with `String()`). A path computed
   * by an operation is guarded when it is resolved instead.
   */
  private pathLiteral(value: unknown, path: Path): void {
    if (typeof value === "string") {
      const segment = forbiddenSegment(value);
      if (segment !== undefined) this.issue(path, `var path must not go through "${segment}"`);
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => this.pathLiteral(item, [...path, index]));
    }
  }
}

/** The operand counts the extension operators (operators.ts) need, which no evaluation could make up for. */
function extensionArity(op: string, operands: readonly unknown[]): { at?: number; message: string } | undefined {
  switch (op) {
    case "like":
      return operands.length === 2 ? undefined : { message: "needs two operands: a value and a pattern" };
    case "instant":
      return operands.length === 1 ? undefined : { message: "needs one operand: a timestamp" };
    case "search":
      return operands.length >= 2
        ? undefined
        : { message: "needs the text to look for, then at least one value to look through" };
    case "some_entry": {
      if (operands.length < 2 || operands.length > 3)
        return { message: "needs an object, the logic each entry is tested with, and optionally a depth" };
      const depth = operands[2];
      if (depth === undefined || (typeof depth === "number" && Number.isInteger(depth) && depth >= 1)) return undefined;
      return { at: 2, message: "must be a whole number of key levels, at least 1" };
    }
    default:
      return undefined;
  }
}

function isPlainObject(value: object): value is Readonly<Record<string, unknown>> {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** UTF-8 byte length of a string (lone surrogates count as U+FFFD, 3 bytes, as an encoder writes them). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i += 1;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
