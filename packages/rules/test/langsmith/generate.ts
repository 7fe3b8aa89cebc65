import type { Run } from "@runhooks/contracts";
import { generateRun, type Gen } from "../filter/generate.js";

/** A literal as LangSmith's language writes it. */
export type Lit = string | number | boolean | null;

/**
 * A LangSmith filter as an abstract tree: what the differential test generates, prints as text, and
 * judges with the reference evaluator. `written` is how a literal is printed when it differs from its
 * meaning (`"5s"` for 5 seconds, a date for its midnight).
 */
export type Cond =
  | { readonly kind: "and" | "or"; readonly args: readonly Cond[] }
  | { readonly kind: "not"; readonly arg: Cond }
  | {
      readonly kind: "compare";
      readonly fn: "eq" | "neq" | "gt" | "gte" | "lt" | "lte";
      readonly field: string;
      readonly value: Lit;
      readonly written?: Lit;
    }
  | { readonly kind: "in"; readonly field: string; readonly values: readonly Lit[] }
  | { readonly kind: "like"; readonly field: string; readonly pattern: string }
  | { readonly kind: "search"; readonly field?: string; readonly text: string }
  | { readonly kind: "has"; readonly value: string }
  | { readonly kind: "hasMetadata"; readonly json: Readonly<Record<string, Lit | Readonly<Record<string, Lit>>>> }
  | { readonly kind: "exists"; readonly field: string; readonly key?: string };

const NAMES = ["ChatOpenAI", "Search", "RunnableSequence", "retriever", "llm"];
const RUN_TYPES = ["llm", "chain", "tool", "retriever"];
const STATUSES = ["success", "error", "pending"];
const ERRORS = ["Rate limit exceeded", "TimeoutError: 30s", ""];
const TAGS = ["prod", "staging", "beta", "llm", "canary"];
const KEYS = [
  "env",
  "user_id",
  "thread_id",
  "a",
  "a.b",
  "b",
  "messages",
  "messages.content",
  "messages.role",
  "q",
  "n",
];
const VALUES: readonly Lit[] = ["prod", "x", "42", 42, 0, true, null, "refund please", "Refund", "user", "it's"];
const WORDS = ["refund", "REFUND", "rate limit", "chat", "prod", "x", "it's", "4"];
const PATTERNS = ["%refund%", "Chat%", "%s", "_rod", "%", "p_o%", "%a%b%", "x", "\\%%", "%it's%"];
const START = 1_712_280_000;

/** A value for metadata, inputs and outputs: scalars, lists and objects a level or two deep. */
function payload(g: Gen, depth: number): unknown {
  const r = g.int(0, depth > 0 ? 7 : 4);
  if (r <= 3) return g.pick(VALUES);
  if (r === 4) return [];
  if (r === 5) return Array.from({ length: g.int(1, 3) }, () => payload(g, depth - 1));
  return entries(g, depth - 1);
}

function entries(g: Gen, depth: number, least = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = g.int(least, 4); i > 0; i--)
    out[g.pick(["env", "user_id", "thread_id", "a", "b", "messages", "content", "role", "q", "n"])] = payload(g, depth);
  return out;
}

/** A run from the JSON-logic generator, with key/value-rich metadata, inputs and outputs. */
export function generateLangSmithRun(g: Gen): Run {
  const base = generateRun(g);
  const metadata = entries(g, 2, 1);
  return {
    ...base,
    name: g.pick(NAMES),
    tags: g.chance(0.85) ? Array.from({ length: g.int(0, 3) }, () => g.pick(TAGS)) : null,
    extra: g.chance(0.9) ? { ...(base.extra ?? {}), metadata: metadata as Record<string, never> } : null,
    inputs: g.chance(0.9) ? (entries(g, 3) as Record<string, never>) : null,
    outputs: g.chance(0.7) ? (entries(g, 3) as Record<string, never>) : null,
    ...(g.chance(0.3) ? { error: g.pick(ERRORS) } : {}),
  };
}

/** Random LangSmith filters over every function and field runhooks accepts. */
export class LangSmithGen {
  constructor(private readonly g: Gen) {}

  condition(depth: number): Cond {
    const g = this.g;
    if (depth <= 0 || g.chance(0.45)) return this.leaf();
    switch (g.int(0, 5)) {
      case 0:
        return { kind: "not", arg: this.condition(depth - 1) };
      case 1:
        return { kind: "or", args: Array.from({ length: g.int(1, 3) }, () => this.condition(depth - 1)) };
      case 2: {
        // An `and` of key/value calls of one family (the pairs LangSmith reads as one entry), and maybe more.
        const family = g.pick(FAMILIES);
        const pairs = g.chance(0.5)
          ? [
              this.entryCall(family, "key"),
              ...Array.from({ length: g.int(1, 2) }, () => this.entryCall(family, "value")),
            ]
          : Array.from({ length: g.int(1, 4) }, () => this.entryCall(family));
        return { kind: "and", args: g.chance(0.3) ? [...pairs, this.condition(depth - 1)] : pairs };
      }
      default:
        return { kind: "and", args: Array.from({ length: g.int(1, 3) }, () => this.condition(depth - 1)) };
    }
  }

  leaf(): Cond {
    const g = this.g;
    switch (g.int(0, 11)) {
      case 0:
      case 1:
        return this.text();
      case 2:
        return this.number();
      case 3:
        return this.latency();
      case 4:
        return this.time();
      case 5:
        return { kind: "compare", fn: g.pick(["eq", "neq"]), field: "is_root", value: g.pick([true, false, null]) };
      case 6:
        return this.tags();
      case 7:
        return g.chance(0.5)
          ? { kind: "search", text: g.pick(WORDS) }
          : {
              kind: "search",
              field: g.pick(["name", "error", "inputs", "outputs", "metadata", "tags"]),
              text: g.pick(WORDS),
            };
      case 8:
        return g.chance(0.5)
          ? { kind: "exists", field: g.pick(["error", "status", "total_tokens", "tags", "session_id"]) }
          : { kind: "exists", field: g.pick(["metadata", "inputs", "outputs"]), key: g.pick(KEYS) };
      case 9:
        return { kind: "hasMetadata", json: this.containment() };
      default:
        return this.entryCall(g.pick(FAMILIES));
    }
  }

  private text(): Cond {
    const g = this.g;
    const field = g.pick(["name", "run_type", "status", "error"]);
    const vocab = field === "name" ? NAMES : field === "run_type" ? RUN_TYPES : field === "status" ? STATUSES : ERRORS;
    switch (g.int(0, 3)) {
      case 0:
        return { kind: "in", field, values: Array.from({ length: g.int(1, 3) }, () => g.pick(vocab)) };
      case 1:
        return { kind: "like", field, pattern: g.pick(PATTERNS.concat(["Chat%", "%Open%", "%limit%", "___"])) };
      default:
        return { kind: "compare", fn: g.pick(["eq", "neq"]), field, value: g.chance(0.15) ? null : g.pick(vocab) };
    }
  }

  private number(): Cond {
    const g = this.g;
    const field = g.pick(["total_tokens", "prompt_tokens", "completion_tokens", "total_cost"]);
    if (g.chance(0.15))
      return { kind: "in", field, values: [g.pick([0, 12, 250, 0.0012, 1]), g.pick([1024, 0.5, 10])] };
    const fn = g.pick(["eq", "neq", "gt", "gte", "lt", "lte"] as const);
    const value = g.pick([0, 12, 250, 1024, 0.0012, 0.5, 1, -1, 5000]);
    if ((fn === "eq" || fn === "neq") && g.chance(0.15)) return { kind: "compare", fn, field, value: null };
    return { kind: "compare", fn, field, value, ...(g.chance(0.3) ? { written: String(value) } : {}) };
  }

  private latency(): Cond {
    const g = this.g;
    const [value, written] = g.pick<[number, Lit]>([
      [0, 0],
      [1, "1s"],
      [2, 2],
      [5, "5s"],
      [5, "5000ms"],
      [0.5, "500ms"],
      [12, "12"],
      [60, "1m"],
      [1.5, "1.5s"],
    ]);
    return { kind: "compare", fn: g.pick(["eq", "neq", "gt", "gte", "lt", "lte"]), field: "latency", value, written };
  }

  private time(): Cond {
    const g = this.g;
    const seconds = START + g.int(0, 86_400);
    const iso = new Date(seconds * 1000).toISOString();
    const forms: [string, string][] = [
      [iso, iso],
      [iso, iso.replace(".000Z", "+00:00")],
      [iso.slice(0, 10) + "T00:00:00Z", iso.slice(0, 10)],
      [iso, iso.replace("Z", "").replace(".000", ".000000")],
    ];
    const [value, written] = g.pick(forms);
    const fn = g.pick(["eq", "neq", "gt", "gte", "lt", "lte"] as const);
    return { kind: "compare", fn, field: g.pick(["start_time", "end_time"]), value, written };
  }

  private tags(): Cond {
    const g = this.g;
    switch (g.int(0, 4)) {
      case 0:
        return { kind: "has", value: g.pick(TAGS) };
      case 1:
        return { kind: "in", field: "tags", values: [g.pick(TAGS), g.pick(TAGS)] };
      case 2:
        return { kind: "like", field: "tags", pattern: g.pick(["%a%", "p%", "_eta"]) };
      default:
        return { kind: "compare", fn: g.pick(["eq", "neq"]), field: "tags", value: g.pick(TAGS) };
    }
  }

  private entryCall(family: string, given?: "key" | "value"): Cond {
    const g = this.g;
    const side = given ?? (g.chance(0.5) ? "key" : "value");
    const field = `${family}_${side}`;
    const pick = (): Lit => (side === "key" ? g.pick(KEYS) : g.pick(VALUES));
    switch (g.int(0, 9)) {
      case 0:
        return { kind: "in", field, values: [pick(), pick()].filter((v) => side === "value" || typeof v === "string") };
      case 1:
        return { kind: "like", field, pattern: g.pick(PATTERNS) };
      case 2:
        return { kind: "search", field, text: g.pick(WORDS) };
      case 3:
        if (side === "value")
          return { kind: "compare", fn: g.pick(["gt", "gte", "lt", "lte"]), field, value: g.pick([0, 1, 41, 42, -1]) };
        return { kind: "compare", fn: "neq", field, value: pick() };
      case 4:
      case 5:
        return { kind: "compare", fn: "neq", field, value: pick() };
      default:
        return { kind: "compare", fn: "eq", field, value: pick() };
    }
  }

  private containment(): Record<string, Lit | Record<string, Lit>> {
    const g = this.g;
    const out: Record<string, Lit | Record<string, Lit>> = {};
    for (let i = g.int(1, 2); i > 0; i--) {
      const key = g.pick(["env", "user_id", "thread_id", "a", "n"]);
      out[key] = g.chance(0.25) ? { [g.pick(["b", "q", "env"])]: g.pick(VALUES) } : g.pick(VALUES);
    }
    return out;
  }
}

const FAMILIES = ["metadata", "input", "output"];

/** The filter as LangSmith text, its quotes, spacing and literal forms chosen at random. */
export function printLangSmith(cond: Cond, g: Gen): string {
  const q = (text: string): string => {
    const quote = g.chance(0.5) ? '"' : "'";
    return quote + text.replace(/\\/g, "\\\\").replace(new RegExp(quote, "g"), `\\${quote}`) + quote;
  };
  const lit = (value: Lit): string => (typeof value === "string" ? q(value) : String(value));
  const sep = (): string => g.pick([", ", ",", " , ", ",\n  "]);
  const call = (name: string, args: readonly string[]): string => `${name}(${args.join(sep())})`;
  const print = (c: Cond): string => {
    switch (c.kind) {
      case "and":
      case "or":
        return call(c.kind, c.args.map(print));
      case "not":
        return call("not", [print(c.arg)]);
      case "compare":
        return call(c.fn, [c.field, lit(c.written !== undefined ? c.written : c.value)]);
      case "in":
        return call("in", [c.field, `[${c.values.map(lit).join(sep())}]`]);
      case "like":
        return call("like", [c.field, lit(c.pattern)]);
      case "search":
        return call("search", c.field === undefined ? [lit(c.text)] : [c.field, lit(c.text)]);
      case "has":
        return call("has", ["tags", lit(c.value)]);
      case "hasMetadata":
        return call("has", ["metadata", lit(JSON.stringify(c.json))]);
      case "exists":
        return call("exists", c.key === undefined ? [c.field] : [c.field, lit(c.key)]);
    }
  };
  return print(cond);
}
