import type { Run } from "@runhooks/contracts";
import { JSON_LOGIC_OPERATORS } from "@runhooks/rules";

export class Gen {
  constructor(readonly random: () => number) {}
  int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.random() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[Math.floor(this.random() * items.length)] as T;
  }
  hex(n: number): string {
    let out = "";
    for (let i = 0; i < n; i++) out += "0123456789abcdef"[this.int(0, 15)];
    return out;
  }
  uuid(): string {
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-8${this.hex(3)}-${this.hex(12)}`;
  }
}

const RUN_TYPES = ["llm", "chain", "tool", "retriever", "prompt", "parser", "embedding"];
const STATUSES = ["success", "error", "pending", null, undefined];
const NAMES = ["ChatOpenAI", "Search", "RunnableSequence", "retriever", "0", "llm", "AgentExecutor", "10"];
const TAGS = ["prod", "staging", "beta", "llm", "", "0", "v2", "canary"];
const ERRORS = [null, undefined, "", "Rate limit exceeded", "TimeoutError: 30s", "0"];
const META_KEYS = ["env", "model", "user_id", "ls_provider", "temperature", "version", "region", "flag", "score"];
const META_STRINGS = ["prod", "gpt-4o", "", "0", "10", "1e3", "us-east-1", "true", "null", "abc"];

function metaValue(g: Gen): unknown {
  switch (g.int(0, 7)) {
    case 0:
    case 1:
      return g.pick(META_STRINGS);
    case 2:
      return g.pick([0, 1, -1, 0.5, 10, 2.5, 1000, -0.25]);
    case 3:
      return g.chance(0.5);
    case 4:
      return null;
    case 5:
      return [g.pick(META_STRINGS), g.pick([1, 2, 3])].slice(0, g.int(0, 2));
    case 6:
      // Objects, including one-key ones that json-logic-js's `missing` re-reads as logic.
      return g.pick<unknown>([
        { tier: g.pick(["free", "pro", ""]), id: g.int(0, 3) },
        { var: g.pick(["name", "tags", "nope"]) },
        { no_such_op: 1 },
      ]);
    default:
      return g.pick(TAGS);
  }
}

function timestamp(g: Gen, epochSeconds: number, micros: number): string {
  const iso = new Date(epochSeconds * 1000).toISOString().slice(0, 19);
  return `${iso}.${String(micros).padStart(6, "0")}${g.pick(["", "+00:00", "Z"])}`;
}

/** A run with LangSmith's fields, values of every JSON type, and gaps (absent, null, empty). */
export function generateRun(g: Gen): Run {
  const start = 1_712_280_000 + g.int(0, 86_400);
  const startMicros = g.int(0, 999_999);
  const latency = g.pick([0, 0, 1, 2, 5, 12, 60]);
  const metadata: Record<string, unknown> = {};
  for (let i = g.int(0, 5); i > 0; i--) metadata[g.pick(META_KEYS)] = metaValue(g);
  // Rarely, data that makes json-logic-js throw (an `indexOf` or `toString` key that is not a function).
  if (g.chance(0.03)) metadata[g.pick(["indexOf", "toString", "valueOf"])] = g.pick([1, "x", null]);
  const run: Record<string, unknown> = {
    id: g.uuid(),
    name: g.pick(NAMES),
    run_type: g.pick(RUN_TYPES),
    start_time: timestamp(g, start, startMicros),
    tenant_id: g.uuid(),
    session_id: g.chance(0.8) ? g.uuid() : null,
    trace_id: g.uuid(),
    is_root: g.chance(0.5),
    total_tokens: g.pick([0, 12, 250, 1024, 4096, null]),
    prompt_tokens: g.pick([0, 10, 200, null]),
    completion_tokens: g.pick([0, 2, 50, null]),
    total_cost: g.pick([0, 0.0012, 0.5, "0.0012", "1", null]),
    tags: g.chance(0.85) ? Array.from({ length: g.int(0, 3) }, () => g.pick(TAGS)) : null,
    parent_run_ids: g.chance(0.5) ? [] : [g.uuid()],
    extra: g.chance(0.8) ? { metadata: g.chance(0.9) ? metadata : null, runtime: { sdk: "langsmith-py" } } : null,
    feedback_stats: g.chance(0.3) ? { correctness: { n: g.int(0, 5), avg: g.pick([0, 0.5, 1]) } } : null,
    inputs: { question: g.pick(["What is 2+2?", "", "hi"]) },
    outputs: g.chance(0.5) ? { answer: g.pick(["4", "", "idk"]) } : null,
    events: g.chance(0.3) ? [{ name: "new_token", time: "x" }, { name: "end" }] : null,
  };
  const status = g.pick(STATUSES);
  if (status !== undefined) run["status"] = status;
  const error = g.pick(ERRORS);
  if (error !== undefined) run["error"] = error;
  if (g.chance(0.85)) run["end_time"] = timestamp(g, start + latency, (startMicros + g.int(0, 999_999)) % 1_000_000);
  else if (g.chance(0.5)) run["end_time"] = null;
  return run as Run;
}

/** Paths a filter reads: run fields, derived facts, dotted and indexed paths, and ones that are absent. */
const PATHS = [
  "run_type",
  "status",
  "name",
  "tags",
  "tags.0",
  "tags.1",
  "tags.length",
  "name.length",
  "total_tokens",
  "prompt_tokens",
  "completion_tokens",
  "total_cost",
  "error",
  "latency",
  "has_error",
  "metadata",
  "metadata.env",
  "metadata.model",
  "metadata.temperature",
  "metadata.flag",
  "metadata.score",
  "metadata.version",
  "metadata.user_id.tier",
  "metadata.region.0",
  "extra.metadata.env",
  "extra.runtime.sdk",
  "feedback_stats.correctness.avg",
  "inputs.question",
  "outputs.answer",
  "events.0.name",
  "is_root",
  "session_id",
  "nope",
  "nope.deeper",
  "end_time",
];
const STRINGS = ["", "0", "1", "10", "llm", "error", "prod", "gpt-4o", "abc", "true", "null", " ", "1e3", "-1"];
const NUMBERS = [0, 1, -1, 2, 0.5, 10, 100, 1000, -0.5, 3];

export type Expr = unknown;

/** Random filters of bounded depth, mixing every accepted operator with vars and literals of all JSON types. */
export class FilterGen {
  constructor(private readonly g: Gen) {}

  literal(): Expr {
    const g = this.g;
    switch (g.int(0, 6)) {
      case 0:
      case 1:
        return g.pick(STRINGS);
      case 2:
      case 3:
        return g.pick(NUMBERS);
      case 4:
        return g.chance(0.5);
      case 5:
        return null;
      default:
        return Array.from({ length: g.int(0, 3) }, () => (g.chance(0.5) ? g.pick(STRINGS) : g.pick(NUMBERS)));
    }
  }

  varExpr(depth: number): Expr {
    const g = this.g;
    const path = g.pick(PATHS);
    switch (g.int(0, 9)) {
      case 0:
        return { var: [path] };
      case 1:
        return { var: [path, this.literal()] };
      case 2:
        return { var: g.pick(["", [], null, [""]]) };
      case 3:
        return { var: g.int(0, 2) };
      case 4:
        return depth > 0 ? { var: [{ cat: ["metadata.", g.pick(META_KEYS)] }, this.value(depth - 1)] } : { var: path };
      default:
        return { var: path };
    }
  }

  /** Anything that yields a value: a literal, a var, or (while depth remains) an operation. */
  value(depth: number): Expr {
    const g = this.g;
    const r = g.random();
    if (depth <= 0 || r < 0.3) return g.chance(0.55) ? this.varExpr(0) : this.literal();
    if (r < 0.45) return this.varExpr(depth);
    return this.operation(g.pick(JSON_LOGIC_OPERATORS), depth - 1);
  }

  args(n: number, depth: number): Expr[] {
    return Array.from({ length: n }, () => this.value(depth));
  }

  arraySource(depth: number): Expr {
    const g = this.g;
    switch (g.int(0, 7)) {
      case 0:
        return { var: "tags" };
      case 1:
        return { var: g.pick(["events", "parent_run_ids", "metadata.region", "nope"]) };
      case 2:
        return Array.from({ length: g.int(0, 4) }, () => g.pick(NUMBERS));
      case 3:
        return Array.from({ length: g.int(0, 3) }, () => g.pick(STRINGS));
      case 4:
        return { merge: [{ var: "tags" }, this.literal()] };
      case 5:
        return { map: [{ var: "tags" }, { cat: [{ var: "" }, "!"] }] };
      default:
        return this.value(depth);
    }
  }

  /** Logic run per element: reads the element (`var ""`, `var "name"`) or the reduce accumulator. */
  scoped(depth: number): Expr {
    const g = this.g;
    const element = g.pick<Expr>([{ var: "" }, { var: "name" }, { var: "" }, { var: ["", 0] }, { var: "length" }]);
    switch (g.int(0, 5)) {
      case 0:
        return { [g.pick(["==", "!=", "===", ">", "<", ">="])]: [element, this.literal()] };
      case 1:
        return { in: [element, this.g.pick<Expr>([["prod", "beta", 1, 2], "prod-beta", { var: "tags" }])] };
      case 2:
        return { "!": element };
      case 3:
        return element;
      default:
        return depth > 0 ? this.value(depth - 1) : element;
    }
  }

  operation(op: (typeof JSON_LOGIC_OPERATORS)[number], depth: number): Expr {
    const g = this.g;
    switch (op) {
      case "==":
      case "===":
      case "!=":
      case "!==":
      case ">":
      case ">=":
        return { [op]: this.args(g.chance(0.9) ? 2 : g.int(1, 3), depth) };
      case "<":
      case "<=":
        return { [op]: this.args(g.chance(0.6) ? 2 : g.pick([1, 3, 3]), depth) };
      case "!":
      case "!!":
        return g.chance(0.4)
          ? { [op]: this.value(depth) }
          : { [op]: this.args(g.chance(0.85) ? 1 : g.int(0, 2), depth) };
      case "and":
      case "or":
        return { [op]: this.args(g.int(0, 4), depth) };
      case "if":
      case "?:":
        return { [op]: this.args(g.int(0, 5), depth) };
      case "in":
        return {
          in: [
            this.value(depth),
            g.chance(0.7)
              ? g.pick<Expr>([
                  { var: "tags" },
                  { var: "name" },
                  ["llm", "tool", 0, "0"],
                  "RunnableSequence",
                  { var: "metadata.env" },
                ])
              : this.value(depth),
          ],
        };
      case "cat":
        return { cat: this.args(g.int(0, 4), depth) };
      case "substr":
        return {
          substr: [
            this.value(depth),
            g.pick<Expr>([0, 1, -1, -3, 2, "1", null]),
            ...(g.chance(0.6) ? [g.pick<Expr>([1, 2, -1, -2, 0, "-1", null])] : []),
          ],
        };
      case "+":
      case "-":
      case "/":
      case "%":
      case "min":
      case "max":
        return g.chance(0.2) ? { [op]: this.value(depth) } : { [op]: this.args(g.int(0, 3), depth) };
      case "*":
        return g.chance(0.2) ? { [op]: this.value(depth) } : { [op]: this.args(g.int(1, 3), depth) };
      case "var":
        return this.varExpr(depth);
      case "missing":
        switch (g.int(0, 4)) {
          case 0:
            return { missing: [g.pick(PATHS), g.pick(PATHS)] };
          case 1:
            return { missing: [[g.pick(PATHS), g.pick(PATHS)]] };
          case 2:
            return { missing: { merge: [[g.pick(PATHS)], { if: [{ var: "is_root" }, [g.pick(PATHS)], []] }] } };
          case 3:
            // Keys taken from the run's data (re-read by json-logic-js as paths).
            return { missing: { var: g.pick(["tags", "metadata.region", "metadata.user_id", "name"]) } };
          default:
            return { missing: g.pick(PATHS) };
        }
      case "missing_some":
        return {
          missing_some: [
            g.pick<Expr>([0, 1, 2, "1", { var: "total_tokens" }]),
            g.pick<Expr>([
              [g.pick(PATHS), g.pick(PATHS), g.pick(PATHS)],
              { merge: [[g.pick(PATHS)], [g.pick(PATHS)]] },
              { var: g.pick(["tags", "metadata.region", "metadata.flag"]) },
              [],
            ]),
          ],
        };
      case "all":
      case "some":
      case "none":
      case "filter":
      case "map":
        return g.chance(0.1)
          ? { [op]: this.arraySource(depth) }
          : { [op]: [this.arraySource(depth), this.scoped(depth)] };
      case "reduce":
        return {
          reduce: [
            this.arraySource(depth),
            g.pick<Expr>([
              { "+": [{ var: "accumulator" }, { var: "current" }] },
              { cat: [{ var: "accumulator" }, { var: "current" }] },
              { max: [{ var: "accumulator" }, { var: "current" }] },
              { or: [{ var: "accumulator" }, { var: "current" }] },
            ]),
            ...(g.chance(0.7) ? [g.pick<Expr>([0, "", null, [], 1])] : []),
          ],
        };
      case "merge":
        return { merge: this.args(g.int(0, 3), depth).map((a) => (g.chance(0.5) ? a : [a])) };
    }
  }

  /** A top-level filter: usually a boolean shape (and/or of comparisons), sometimes anything. */
  filter(maxDepth: number): Expr {
    const g = this.g;
    if (g.chance(0.02)) return this.literal();
    if (g.chance(0.35)) return this.operation(g.pick(["and", "or"]), maxDepth - 1);
    return this.operation(g.pick(JSON_LOGIC_OPERATORS), maxDepth - 1);
  }
}

/** Counts each operator in a filter (the differential test's coverage report). */
export function countOperators(expr: unknown, into: Map<string, number>): void {
  if (Array.isArray(expr)) {
    for (const item of expr) countOperators(item, into);
  } else if (typeof expr === "object" && expr !== null) {
    for (const [op, operands] of Object.entries(expr)) {
      into.set(op, (into.get(op) ?? 0) + 1);
      countOperators(operands, into);
    }
  }
}
