import type { JsonValue } from "@runhooks/contracts";

declare const validated: unique symbol;

/**
 * A JSON-logic filter that passed `validateFilter`. Only `validateFilter` mints this type, so the
 * compiler and the explainer never see an operator outside the accepted set, a `var` path through
 * the prototype chain, or a filter beyond the size limits.
 */
export type JsonLogicExpression = JsonValue & { readonly [validated]: true };

/**
 * json-logic-js's `is_logic`: an operation is a plain, non-array object with exactly one key.
 * Anything else — including `{}` and objects with several keys — is a literal to json-logic-js.
 */
export function isOperation(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 1;
}

/**
 * An operation's operator and its operand list. json-logic-js accepts a bare operand for unary use
 * (`{"var": "x"}` means `{"var": ["x"]}`); `listed` says which form was written, for error paths.
 */
export interface OperationParts {
  readonly op: string;
  readonly operands: readonly unknown[];
  readonly listed: boolean;
}

export function operationParts(operation: Readonly<Record<string, unknown>>): OperationParts {
  const op = Object.keys(operation)[0] ?? "";
  const raw = operation[op];
  return Array.isArray(raw) ? { op, operands: raw, listed: true } : { op, operands: [raw], listed: false };
}
