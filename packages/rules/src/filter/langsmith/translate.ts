import { formatPath, type JsonValue } from "@runhooks/contracts";
import { ENTRY_FIELDS, FIELDS, FUNCTIONS, OBJECTS, type EntryFamily } from "./fields.js";
import { arity, describe, nameOf, refuse, textOf, unknownField } from "./nodes.js";
import type { CallNode, Node } from "./parser.js";
import { entryFamily, entryGroup, objectCondition } from "./translate-entries.js";
import { fieldCondition } from "./translate-field.js";

/** A filter's JSON-logic tree, and for each node that stands for calls the text they were written as. */
export interface Translation {
  readonly tree: JsonValue;
  /** Path in the rule document (`filter.and[1]`) → the LangSmith text of that part. */
  readonly sources: Readonly<Record<string, string>>;
}

const KNOWN = new Set<string>(FUNCTIONS);

/** Translates a parsed filter; throws `Refusal` naming the offset of the first problem. */
export function translate(text: string, root: Node): Translation {
  const translator = new Translator(text);
  const tree = translator.condition(root, ["filter"]);
  return { tree, sources: translator.sources };
}

class Translator {
  readonly sources: Record<string, string> = {};

  constructor(private readonly text: string) {}

  condition(node: Node, path: readonly PropertyKey[]): JsonValue {
    if (node.kind !== "call")
      return refuse(node, `expected a condition such as eq(run_type, "llm"), found ${describe(node)}`);
    if (!KNOWN.has(node.name))
      return refuse(node, `unknown function "${node.name}"; the functions are ${FUNCTIONS.join(", ")}`);
    const tree = this.call(node, path);
    this.sources[formatPath(path)] = this.source(node);
    return tree;
  }

  private source(...calls: readonly Node[]): string {
    return calls.map((call) => this.text.slice(call.start, call.end)).join(", ");
  }

  private call(call: CallNode, path: readonly PropertyKey[]): JsonValue {
    switch (call.name) {
      case "and":
        return this.and(call, path);
      case "or":
        if (call.args.length === 0) refuse(call, "or needs at least one condition: or(condition, …)");
        return { or: call.args.map((arg, i) => this.condition(arg, [...path, "or", i])) };
      case "not":
        arity(call, 1);
        return { "!": [this.condition(call.args[0]!, [...path, "!", 0])] };
      case "search":
        // search("text"): LangSmith's full-text search, through inputs, outputs, error and name.
        if (call.args.length === 1) {
          const needle = textOf(call.args[0], call, "the text to search for");
          return { search: [needle, { var: "inputs" }, { var: "outputs" }, { var: "error" }, { var: "name" }] };
        }
        return this.onField(call);
      default:
        return this.onField(call);
    }
  }

  /** A call whose first argument names what it tests. */
  private onField(call: CallNode): JsonValue {
    const name = nameOf(call.args[0], call);
    const field = FIELDS[name];
    if (field !== undefined) return fieldCondition(call, name, field);
    const object = OBJECTS[name];
    if (object !== undefined) return objectCondition(call, name, object);
    const family = ENTRY_FIELDS[name]?.family;
    // A key/value call outside an `and` (or one that cannot pair) is a group of its own.
    if (family !== undefined) return this.single(call, family);
    return unknownField(call.args[0]!, name);
  }

  private single(call: CallNode, family: EntryFamily): JsonValue {
    const [part] = entryGroup(family, [call]);
    return part!.node;
  }

  /**
   * `and(…)`: the key/value calls of one family among its arguments form one group, placed where the
   * first of them is (entryGroup); every other argument is translated in its place.
   */
  private and(call: CallNode, path: readonly PropertyKey[]): JsonValue {
    if (call.args.length === 0) refuse(call, "and needs at least one condition: and(condition, …)");
    type Slot = { readonly node: Node } | { readonly family: EntryFamily; readonly calls: CallNode[] };
    const slots: Slot[] = [];
    const groups = new Map<EntryFamily, CallNode[]>();
    for (const arg of call.args) {
      const family = entryFamily(arg);
      if (family === undefined) {
        slots.push({ node: arg });
        continue;
      }
      const calls = groups.get(family);
      if (calls !== undefined) calls.push(arg as CallNode);
      else {
        const group: CallNode[] = [arg as CallNode];
        groups.set(family, group);
        slots.push({ family, calls: group });
      }
    }
    const out: JsonValue[] = [];
    for (const slot of slots) {
      if ("node" in slot) {
        out.push(this.condition(slot.node, [...path, "and", out.length]));
        continue;
      }
      for (const part of entryGroup(slot.family, slot.calls)) {
        this.sources[formatPath([...path, "and", out.length])] = this.source(...part.calls);
        out.push(part.node);
      }
    }
    return { and: out };
  }
}
