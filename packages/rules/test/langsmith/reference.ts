import type { Run } from "@runhooks/contracts";
import type { Cond, Lit } from "./generate.js";

/**
 * An independent reference evaluator of LangSmith filters (the abstract tree, not its JSON-logic),
 * written from runhooks' documented semantics (docs/rules.md) with none of the product's code: entries
 * are listed in full, LIKE is a regular expression, timestamps are parsed to BigInt microseconds.
 * Primitive comparisons are JavaScript's loose ones, which the documentation names as the semantics.
 */
export function referenceMatches(cond: Cond, run: Run): boolean {
  return new Reference(run).test(cond);
}

const TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?$/;

/** Microseconds since the epoch, or undefined. */
export function micros(text: unknown): bigint | undefined {
  if (typeof text !== "string") return undefined;
  const m = TIME.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const base = BigInt(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0))) * 1000n;
  const fraction = BigInt((frac ?? "").slice(0, 6).padEnd(6, "0"));
  let offset = 0n;
  if (zone !== undefined && zone !== "Z") {
    const sign = zone.startsWith("-") ? -1n : 1n;
    offset = sign * (BigInt(zone.slice(1, 3)) * 3600n + BigInt(zone.slice(4, 6)) * 60n) * 1_000_000n;
  }
  return base + fraction - offset;
}

/** Every string inside a value, at any depth (object keys excluded). */
function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(strings);
  return [];
}

function likeRegExp(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "%") source += "[\\s\\S]*";
    else if (c === "_") source += "[\\s\\S]";
    else {
      const literal = c === "\\" && i + 1 < pattern.length ? pattern[++i]! : c;
      source += literal.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`);
}

interface Entry {
  readonly key: string;
  readonly value: unknown;
}

/** Every key/value entry of an object down to `depth` key levels; arrays give their elements. */
function listEntries(object: unknown, depth: number, prefix = ""): Entry[] {
  if (typeof object !== "object" || object === null || Array.isArray(object) || depth <= 0) return [];
  const out: Entry[] = [];
  for (const [name, value] of Object.entries(object)) {
    const key = prefix === "" ? name : `${prefix}.${name}`;
    const elements = Array.isArray(value) ? (value.length === 0 ? [value] : flatten(value)) : [value];
    for (const element of elements) {
      out.push({ key, value: element });
      out.push(...listEntries(element, depth - 1, key));
    }
  }
  return out;
}

function flatten(list: readonly unknown[]): unknown[] {
  return list.flatMap((item) => (Array.isArray(item) && item.length > 0 ? flatten(item) : [item]));
}

const ORDER = {
  gt: (a: number, b: number) => a > b,
  gte: (a: number, b: number) => a >= b,
  lt: (a: number, b: number) => a < b,
  lte: (a: number, b: number) => a <= b,
} as const;

const FAMILY_OBJECT: Readonly<Record<string, [string, number]>> = {
  metadata: ["metadata", 2],
  input: ["inputs", Infinity],
  output: ["outputs", Infinity],
};

class Reference {
  private readonly fields: Record<string, unknown>;

  constructor(run: Run) {
    const r = run as Run & Record<string, unknown>;
    const start = micros(r.start_time);
    const end = micros(r.end_time);
    const metadata = r.extra?.["metadata"];
    this.fields = {
      ...r,
      latency: start === undefined || end === undefined ? null : Number(end - start) / 1e6,
      metadata: metadata ?? {},
    };
  }

  test(c: Cond): boolean {
    switch (c.kind) {
      case "and":
        return this.and(c.args);
      case "or":
        return c.args.some((arg) => this.test(arg));
      case "not":
        return !this.test(c.arg);
      default:
        if (familyOf(c) !== undefined) return this.group([c]);
        return this.leaf(c);
    }
  }

  /** The key/value calls of one family in one `and` speak of one entry (docs/rules.md). */
  private and(args: readonly Cond[]): boolean {
    const families = new Map<string, Cond[]>();
    for (const arg of args) {
      const family = familyOf(arg);
      if (family === undefined) {
        if (!this.test(arg)) return false;
      } else families.set(family, [...(families.get(family) ?? []), arg]);
    }
    return [...families.values()].every((calls) => this.group(calls));
  }

  private group(calls: readonly Cond[]): boolean {
    const family = familyOf(calls[0]!)!;
    const [object, depth] = FAMILY_OBJECT[family]!;
    const entries = listEntries(this.fields[object], depth);
    const side = (c: Cond): "key" | "value" => ((c as { field: string }).field.endsWith("_key") ? "key" : "value");
    const negated = (c: Cond): boolean => c.kind === "compare" && c.fn === "neq";
    const keyed = calls.some((c) => side(c) === "key" && !negated(c));
    const together = calls.filter((c) => !negated(c) || (keyed && side(c) === "value"));
    const alone = calls.filter((c) => !together.includes(c));
    if (together.length > 0 && !entries.some((e) => together.every((c) => this.onEntry(c, e, side(c))))) return false;
    // A negated key (or a negated value with no key beside it): no entry has it.
    return alone.every((c) => !entries.some((e) => this.onEntry({ ...c, fn: "eq" } as Cond, e, side(c))));
  }

  private onEntry(c: Cond, entry: Entry, side: "key" | "value"): boolean {
    const subject = entry[side];
    switch (c.kind) {
      case "compare":
        if (c.fn === "eq") return looseEquals(subject, c.value);
        if (c.fn === "neq") return !looseEquals(subject, c.value);
        return subject !== null && ORDER[c.fn](subject as number, c.value as number);
      case "in":
        return c.values.includes(subject as Lit);
      case "like":
        return typeof subject === "string" && likeRegExp(c.pattern).test(subject);
      case "search":
        return containsText([subject], c.text);
      default:
        throw new Error(`not an entry call: ${c.kind}`);
    }
  }

  private leaf(c: Cond): boolean {
    const f = this.fields;
    switch (c.kind) {
      case "compare":
        return this.compare(c.fn, c.field, c.value);
      case "in":
        if (c.field === "tags") return tagsOf(f).some((tag) => c.values.includes(tag));
        return c.values.some((value) => this.compare("eq", c.field, value));
      case "like":
        if (c.field === "tags") return tagsOf(f).some((tag) => likeRegExp(c.pattern).test(tag));
        return typeof f[c.field] === "string" && likeRegExp(c.pattern).test(f[c.field] as string);
      case "search":
        if (c.field === undefined) return containsText([f["inputs"], f["outputs"], f["error"], f["name"]], c.text);
        return containsText([f[c.field]], c.text);
      case "has":
        return tagsOf(f).includes(c.value);
      case "hasMetadata":
        return Object.entries(c.json).every(([key, value]) => {
          const pairs =
            typeof value === "object" && value !== null
              ? Object.entries(value).map(([inner, v]) => [`${key}.${inner}`, v] as const)
              : [[key, value] as const];
          const entries = listEntries(f["metadata"], 2);
          return pairs.every(([k, v]) => entries.some((e) => e.key === k && looseEquals(e.value, v)));
        });
      case "exists":
        if (c.key !== undefined) {
          const [object, depth] =
            FAMILY_OBJECT[c.field === "metadata" ? "metadata" : c.field === "inputs" ? "input" : "output"]!;
          return listEntries(f[object], depth).some((e) => e.key === c.key);
        }
        if (c.field === "tags") return tagsOf(f).length > 0;
        return f[c.field] !== null && f[c.field] !== undefined;
      default:
        throw new Error(`not a leaf: ${c.kind}`);
    }
  }

  private compare(fn: "eq" | "neq" | "gt" | "gte" | "lt" | "lte", field: string, value: Lit): boolean {
    const actual = this.fields[field];
    if (fn === "neq") return !this.compare("eq", field, value);
    if (field === "tags") return tagsOf(this.fields).includes(value as string);
    if (field === "start_time" || field === "end_time") {
      if (value === null) return actual === null || actual === undefined;
      const a = micros(actual);
      const b = micros(value);
      if (a === undefined || b === undefined) return false;
      return fn === "eq" ? a === b : ORDER[fn](Number(a - b), 0);
    }
    if (fn === "eq") return looseEquals(actual, value);
    if (actual === null || actual === undefined) return false;
    return ORDER[fn](Number(actual), value as number);
  }
}

function familyOf(c: Cond): string | undefined {
  if (c.kind !== "compare" && c.kind !== "in" && c.kind !== "like" && c.kind !== "search") return undefined;
  const found = /^(metadata|input|output)_(key|value)$/.exec(c.field ?? "");
  return found?.[1];
}

function tagsOf(fields: Record<string, unknown>): string[] {
  return Array.isArray(fields["tags"]) ? (fields["tags"] as string[]) : [];
}

function containsText(values: readonly unknown[], text: string): boolean {
  const needle = text.toLowerCase();
  return values.flatMap(strings).some((s) => s.toLowerCase().includes(needle));
}

/** JavaScript's `==`, the comparison eq and neq make (a cost "0.5" equals 0.5; absent equals null). */
function looseEquals(a: unknown, b: Lit): boolean {
  if (a === undefined) return b === null;
  // Loose equality is the documented semantics being checked.
  return a == b;
}
