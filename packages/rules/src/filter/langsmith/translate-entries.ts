import type { JsonValue } from "@runhooks/contracts";
import { ENTRY_FIELDS, ENTRY_SOURCES, type EntryFamily } from "./fields.js";
import { numberValue } from "./literals.js";
import { arity, describe, listOf, literalOf, refuse, textOf, USAGE } from "./nodes.js";
import type { CallNode, LiteralNode, Node } from "./parser.js";
import { ordered } from "./translate-field.js";

/**
 * LangSmith's key/value fields (`metadata_key`/`metadata_value`, `input_*`, `output_*`) as
 * `some_entry` conditions. Within one `and`, the calls on one family speak of the same entry:
 *
 * - the positive ones (`eq`, `in`, `like`, `search` on the key; those and `gt`… on the value) are
 *   tested together against each entry: `and(eq(metadata_key, "user_id"), eq(metadata_value, "42"))`
 *   is one entry with that key and that value;
 * - `neq(…_key, k)` means no entry has key k;
 * - `neq(…_value, v)` joins the entry when a positive key test names it (the entry's value is not v),
 *   and otherwise means no entry has value v.
 */

const ENTRY_CALLS = new Set(["eq", "neq", "gt", "gte", "lt", "lte", "in", "like", "search"]);

/** The family of a call on a key/value field (`eq(metadata_key, …)`), or undefined. */
export function entryFamily(node: Node): EntryFamily | undefined {
  if (node.kind !== "call" || !ENTRY_CALLS.has(node.name)) return undefined;
  const first = node.args[0];
  return first?.kind === "name" ? ENTRY_FIELDS[first.name]?.family : undefined;
}

/** One translated node of a group, and the calls it stands for. */
export interface EntryPart {
  readonly node: JsonValue;
  readonly calls: readonly CallNode[];
}

/** The calls on one family within one `and` (or alone), as the nodes they mean, in that order. */
export function entryGroup(family: EntryFamily, calls: readonly CallNode[]): EntryPart[] {
  const tests = calls.map((call) => ({ call, ...entryTest(call) }));
  const keyed = tests.some((t) => t.side === "key" && !t.negated);
  const together = tests.filter((t) => !t.negated || (keyed && t.side === "value"));
  const parts: EntryPart[] = [];
  if (together.length > 0) {
    // A negated test here is `neq(…_value, v)` beside a key: that entry's value is not v.
    const logic = together.map((t) => (t.negated ? { "!=": (t.logic as { "==": JsonValue })["=="] } : t.logic));
    parts.push({ node: someEntry(family, logic), calls: together.map((t) => t.call) });
  }
  for (const t of tests) {
    if (!together.includes(t)) parts.push({ node: { "!": [someEntry(family, [t.logic])] }, calls: [t.call] });
  }
  return parts;
}

function someEntry(family: EntryFamily, tests: readonly JsonValue[]): JsonValue {
  const { path, depth } = ENTRY_SOURCES[family];
  const logic = tests.length === 1 ? tests[0]! : { and: [...tests] };
  return { some_entry: depth === undefined ? [{ var: path }, logic] : [{ var: path }, logic, depth] };
}

/** One call as a test of an entry; `neq` is given as the `==` it negates. */
function entryTest(call: CallNode): { side: "key" | "value"; negated: boolean; logic: JsonValue } {
  arity(call, 2);
  const name = (call.args[0] as { name: string }).name;
  const { side } = ENTRY_FIELDS[name]!;
  const read = { var: side };
  const negated = call.name === "neq";
  switch (call.name) {
    case "in": {
      const items = listOf(call.args[1], call);
      if (items.length === 0) refuse(call.args[1]!, "the list is empty: in(…) with no values matches nothing");
      return { side, negated, logic: { in: [read, items.map((item) => entryValue(item, name, side))] } };
    }
    case "like": {
      const pattern = literalOf(call.args[1], call);
      if (typeof pattern.value !== "string") refuse(pattern, `the pattern must be a quoted string: ${USAGE["like"]}`);
      return { side, negated, logic: { like: [read, pattern.value] } };
    }
    case "search":
      return { side, negated, logic: { search: [textOf(call.args[1], call, "the text to search for"), read] } };
    case "eq":
    case "neq":
      return { side, negated, logic: { "==": [read, entryValue(literalOf(call.args[1], call), name, side)] } };
    default: {
      if (side === "key")
        refuse(call, `${call.name} compares numbers; ${name} is text — use eq, neq, in, like or search`);
      const literal = literalOf(call.args[1], call);
      const value =
        numberValue(literal.value) ?? refuse(literal, `${call.name} takes a number, found ${describe(literal)}`);
      return { side, negated, logic: ordered(call.name as "gt", read, value) };
    }
  }
}

function entryValue(literal: LiteralNode, name: string, side: "key" | "value"): JsonValue {
  if (side === "key" && typeof literal.value !== "string")
    refuse(literal, `${name} is a quoted key, found ${describe(literal)}`);
  return literal.value;
}

/**
 * `has(metadata, '{"env": "prod"}')` (the metadata holds every key/value given, one level of nesting
 * deep), `exists(metadata|inputs|outputs, "key")`, `search(metadata|inputs|outputs, "text")`.
 */
export function objectCondition(call: CallNode, name: string, family: EntryFamily): JsonValue {
  const { path } = ENTRY_SOURCES[family];
  arity(call, 2);
  switch (call.name) {
    case "exists":
      return someEntry(family, [{ "==": [{ var: "key" }, textOf(call.args[1], call, "the key")] }]);
    case "search":
      return { search: [textOf(call.args[1], call, "the text to search for"), { var: path }] };
    case "has":
      if (family === "metadata") return contains(call);
      return refuse(
        call,
        `has takes tags or metadata; for ${name}, write exists(${name}, "key") or search(${name}, "text")`,
      );
    default:
      return refuse(call, `${call.name} does not take ${name}: its entries are ${family}_key and ${family}_value`);
  }
}

function contains(call: CallNode): JsonValue {
  const literal = literalOf(call.args[1], call);
  const wrong = (why: string): never =>
    refuse(
      literal,
      `has(metadata, …) takes a JSON object such as '{"env": "prod"}' (${why}); to test for a key alone, write exists(metadata, "key")`,
    );
  let parsed: unknown;
  try {
    parsed = typeof literal.value === "string" ? JSON.parse(literal.value) : undefined;
  } catch {
    return wrong("this is not JSON");
  }
  if (!isObject(parsed)) return wrong("this is not an object");
  const tests: JsonValue[] = [];
  for (const [key, value] of Object.entries(parsed)) {
    const entries = isObject(value)
      ? Object.entries(value).map(([inner, v]) => [`${key}.${inner}`, v] as const)
      : [[key, value] as const];
    for (const [entryKey, entryValue] of entries) {
      if (typeof entryValue === "object" && entryValue !== null)
        wrong(`"${entryKey}" nests deeper than metadata search goes, or holds a list`);
      tests.push(
        someEntry("metadata", [
          { and: [{ "==": [{ var: "key" }, entryKey] }, { "==": [{ var: "value" }, entryValue as JsonValue] }] },
        ]),
      );
    }
  }
  if (tests.length === 0) wrong("it names no key");
  return tests.length === 1 ? tests[0]! : { and: tests };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
