import type { CallNode, LiteralNode, Node } from "./parser.js";
import { FIELD_NAMES, REFUSED_FIELDS } from "./fields.js";
import { Refusal } from "./position.js";

/** How each function is written, for messages. */
export const USAGE: Readonly<Record<string, string>> = {
  and: "and(condition, …)",
  or: "or(condition, …)",
  not: "not(condition)",
  eq: 'eq(field, value), e.g. eq(run_type, "llm")',
  neq: "neq(field, value), e.g. neq(error, null)",
  gt: 'gt(field, value), e.g. gt(latency, "5s")',
  gte: "gte(field, value), e.g. gte(total_tokens, 1000)",
  lt: "lt(field, value), e.g. lt(total_cost, 0.5)",
  lte: 'lte(field, value), e.g. lte(start_time, "2024-01-01T00:00:00Z")',
  has: 'has(tags, "value") or has(metadata, \'{"key": "value"}\')',
  search: 'search("text") or search(field, "text")',
  in: 'in(field, [value, …]), e.g. in(run_type, ["llm", "chain"])',
  like: 'like(field, "pattern"), e.g. like(name, "Chat%")',
  exists: 'exists(field) or exists(metadata, "key")',
};

/** What a node is, for messages: `"llm"`, `the name llm`, `a list`, `eq(…)`. */
export function describe(node: Node): string {
  switch (node.kind) {
    case "call":
      return `${node.name}(…)`;
    case "name":
      return `the name ${node.name}`;
    case "list":
      return "a list";
    default:
      return JSON.stringify(node.value);
  }
}

export function refuse(node: Node, message: string): never {
  throw new Refusal(node.start, message);
}

/** Refuses a call without exactly `count` arguments. */
export function arity(call: CallNode, ...counts: number[]): void {
  if (counts.includes(call.args.length)) return;
  refuse(
    call,
    `${call.name} takes ${counts.join(" or ")} argument${counts.at(-1) === 1 ? "" : "s"}: ${USAGE[call.name]}`,
  );
}

/** The field name a call's argument gives, refusing feedback fields and anything not a name. */
export function nameOf(node: Node | undefined, call: CallNode): string {
  if (node?.kind !== "name")
    return refuse(node ?? call, `expected a field name such as run_type${node ? `, found ${describe(node)}` : ""}`);
  const refused = REFUSED_FIELDS[node.name];
  if (refused !== undefined) refuse(node, refused);
  return node.name;
}

export function unknownField(node: Node, name: string): never {
  return refuse(node, `unknown field "${name}"; the fields are ${FIELD_NAMES}`);
}

/** The literal a call's value argument is, refusing a name, a call or a list. */
export function literalOf(node: Node | undefined, call: CallNode): LiteralNode {
  if (node?.kind === "literal") return node;
  const found = node === undefined ? "nothing" : describe(node);
  const hint = node?.kind === "name" ? ` (a text value goes in quotes: "${node.name}")` : "";
  return refuse(
    node ?? call,
    `expected a value — a quoted string, a number, true, false or null — found ${found}${hint}`,
  );
}

/** The list a call's argument is (`in`'s second). */
export function listOf(node: Node | undefined, call: CallNode): readonly LiteralNode[] {
  if (node?.kind !== "list") return refuse(node ?? call, `expected a list such as ["a", "b"]: ${USAGE[call.name]}`);
  return node.items.map((item) => literalOf(item, call));
}

/** A non-empty string argument. */
export function textOf(node: Node | undefined, call: CallNode, what: string): string {
  const literal = literalOf(node, call);
  if (typeof literal.value !== "string" || literal.value === "")
    refuse(literal, `${what} must be a non-empty quoted string, found ${describe(literal)}`);
  return literal.value;
}
