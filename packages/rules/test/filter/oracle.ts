import jsonLogic, { type RulesLogic, type AdditionalOperation } from "json-logic-js";
import { compileFilter, validateFilter, type CompiledFilter, type JsonLogicExpression } from "@runhooks/rules";

/** json-logic-js 2.0.5, the reference semantics: its value, or the message it threw. */
export type OracleOutcome =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string };

export function oracle(filter: unknown, data: unknown): OracleOutcome {
  try {
    return { ok: true, value: jsonLogic.apply(filter as RulesLogic<AdditionalOperation>, data) as unknown };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/** What a compiled filter must answer: json-logic-js's truthiness, and no match where it throws. */
export function oracleMatches(filter: unknown, data: unknown): boolean {
  const outcome = oracle(filter, data);
  return outcome.ok && jsonLogic.truthy(outcome.value);
}

export function valid(filter: unknown): JsonLogicExpression {
  const result = validateFilter(filter);
  if (!result.ok) throw new Error(`expected a valid filter: ${JSON.stringify(result.issues)}`);
  return result.value;
}

export function compile(filter: unknown): CompiledFilter {
  return compileFilter(valid(filter));
}

/** Deep equality where NaN equals NaN and -0 differs from 0 (json-logic values are plain JSON plus those). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  if (
    typeof a === "object" &&
    typeof b === "object" &&
    a !== null &&
    b !== null &&
    !Array.isArray(a) &&
    !Array.isArray(b)
  ) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return (
      ka.length === kb.length &&
      ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
    );
  }
  return false;
}

/** A value for a failure message: JSON, but NaN, ±Infinity, -0 and undefined are shown as such. */
export function show(value: unknown): string {
  if (value === undefined) return "undefined";
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === "number" && (!Number.isFinite(v) || Object.is(v, -0)))
      return Object.is(v, -0) ? "-0 (number)" : `${v} (number)`;
    if (v === undefined) return "undefined";
    return v;
  });
}
