import type { JsonValue } from "@runhooks/contracts";
import type { Field, FieldKind } from "./fields.js";
import { durationSeconds, numberValue, timestampText } from "./literals.js";
import { arity, describe, listOf, literalOf, refuse, textOf, USAGE } from "./nodes.js";
import type { CallNode, LiteralNode } from "./parser.js";

/**
 * One call on a run field (`eq(run_type, "llm")`) as JSON-logic. Comparisons use JSON-logic's loose
 * `==`/`!=` (a cost LangSmith wrote as the string "0.73" equals 0.73); an absent field is null, so
 * `eq(error, null)` matches a run without one and `neq(field, v)` matches a run without the field.
 * `gt`/`gte`/`lt`/`lte` never match an absent field (as SQL's null compares): where JSON-logic would
 * read null as 0 and match, the comparison is guarded with `!= null`. Times compare as instants.
 */
export function fieldCondition(call: CallNode, name: string, field: Field): JsonValue {
  const read = { var: field.path };
  switch (call.name) {
    case "eq":
    case "neq":
    case "gt":
    case "gte":
    case "lt":
    case "lte":
      arity(call, 2);
      return compare(call, name, field, literalOf(call.args[1], call));
    case "in":
      arity(call, 2);
      return within(call, name, field);
    case "like": {
      arity(call, 2);
      const pattern = literalOf(call.args[1], call);
      if (typeof pattern.value !== "string") refuse(pattern, `the pattern must be a quoted string: ${USAGE["like"]}`);
      if (field.kind === "tags") return { some: [read, { like: [{ var: "" }, pattern.value] }] };
      textOnly(call, name, field.kind);
      return { like: [read, pattern.value] };
    }
    case "search": {
      arity(call, 2);
      const text = textOf(call.args[1], call, "the text to search for");
      if (field.kind !== "tags") textOnly(call, name, field.kind);
      return { search: [text, read] };
    }
    case "has": {
      arity(call, 2);
      if (field.kind !== "tags") refuse(call, `has takes tags or metadata: ${USAGE["has"]}`);
      return { in: [textOf(call.args[1], call, "the tag"), read] };
    }
    case "exists":
      arity(call, 1);
      // Tags exist when there is at least one (an empty list is false in JSON-logic).
      return field.kind === "tags" ? { "!!": [read] } : { "!=": [read, null] };
    default:
      return refuse(call, `unknown function "${call.name}"`);
  }
}

const OPERATOR = { eq: "==", neq: "!=", gt: ">", gte: ">=", lt: "<", lte: "<=" } as const;
type Comparison = keyof typeof OPERATOR;

/** What each kind of field takes as a value, for messages. */
const TAKES: Readonly<Record<FieldKind, string>> = {
  text: "a quoted string or null",
  number: "a number or null",
  latency: 'seconds, or a duration such as "5s", "500ms" or "2m"',
  time: 'a timestamp such as "2023-07-15T12:34:56Z" (or a date, "2023-07-15")',
  bool: "true, false or null",
  tags: "a quoted tag",
};

function compare(call: CallNode, name: string, field: Field, literal: LiteralNode): JsonValue {
  const op = call.name as Comparison;
  const read = { var: field.path };
  const ordering = op !== "eq" && op !== "neq";
  const wrong = (): never => refuse(literal, `${name} takes ${TAKES[field.kind]}, found ${describe(literal)}`);
  if (ordering && (field.kind === "text" || field.kind === "bool" || field.kind === "tags"))
    refuse(call, `${op} compares numbers and times; ${name} is not one — use eq, neq, in, like or search`);
  if (literal.value === null) {
    if (ordering) refuse(literal, `${op} cannot compare with null; to test for a value, write neq(${name}, null)`);
    return { [OPERATOR[op]]: [read, null] };
  }
  switch (field.kind) {
    case "text":
      if (typeof literal.value !== "string") wrong();
      return { [OPERATOR[op]]: [read, literal.value] };
    case "bool":
      if (typeof literal.value !== "boolean") wrong();
      return { [OPERATOR[op]]: [read, literal.value] };
    case "tags": {
      if (typeof literal.value !== "string") wrong();
      const has = { in: [literal.value, read] };
      return op === "eq" ? has : { "!": [has] };
    }
    case "time": {
      const text = timestampText(literal.value) ?? wrong();
      return { [OPERATOR[op]]: [{ instant: [read] }, { instant: [text] }] };
    }
    default: {
      const value = (field.kind === "latency" ? durationSeconds : numberValue)(literal.value) ?? wrong();
      return ordered(op, read, value);
    }
  }
}

/**
 * A numeric comparison; guarded when an absent value (null, which JSON-logic reads as 0) would pass
 * it — `lt(total_tokens, 100)` must not match a run without token counts.
 */
export function ordered(op: Comparison, read: JsonValue, value: number): JsonValue {
  const comparison = { [OPERATOR[op]]: [read, value] };
  const zeroPasses =
    (op === "gt" && 0 > value) ||
    (op === "gte" && 0 >= value) ||
    (op === "lt" && 0 < value) ||
    (op === "lte" && 0 <= value);
  return zeroPasses ? { and: [{ "!=": [read, null] }, comparison] } : comparison;
}

function within(call: CallNode, name: string, field: Field): JsonValue {
  const read = { var: field.path };
  const items = listOf(call.args[1], call);
  if (items.length === 0) refuse(call.args[1]!, "the list is empty: in(…) with no values matches nothing");
  const values = items.map((item) => {
    switch (field.kind) {
      case "text":
      case "tags":
        return typeof item.value === "string" ? item.value : refuse(item, `${name} values are quoted strings`);
      case "bool":
        return typeof item.value === "boolean" ? item.value : refuse(item, `${name} values are true or false`);
      case "number":
        return numberValue(item.value) ?? refuse(item, `${name} values are numbers`);
      default:
        return refuse(call, `in does not take ${name}; compare it with gt, gte, lt or lte`);
    }
  });
  if (field.kind === "tags") return { some: [read, { in: [{ var: "" }, values] }] };
  // Numbers compare loosely, as eq does (`in` alone is strict: "0.5" is not 0.5).
  if (field.kind === "number") return { or: values.map((value) => ({ "==": [read, value] })) };
  return { in: [read, values] };
}

function textOnly(call: CallNode, name: string, kind: FieldKind): void {
  if (kind !== "text") refuse(call, `${call.name} looks into text; ${name} is not text`);
}
