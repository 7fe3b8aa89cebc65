import { isOperation, operationParts, type JsonLogicExpression } from "../filter/expression.js";

/**
 * What a rule version requires of a run before its filter could hold, as index keys (DESIGN.md §3,
 * rule indexing). The rule book lists a rule under every key of every version it keeps; a run is
 * tested only against the rules listed under a key it probes (`probeRun`). Skipping a rule is safe
 * only when its filter's verdict on the run would have been `false` — not `true`, and not "error",
 * which the tenant is told about — so a key is drawn only from a conjunct whose falsity the index can
 * prove and whose evaluation, with every conjunct before it, cannot run out of the filter's budget.
 *
 * The safety conditions, each held by `index-differential.test.ts`:
 *
 * 1. The conjunct is one of the filter's top-level `and` operands (or the whole filter): a filter
 *    that holds made each of them truthy, and `and` stops at the first falsy one.
 * 2. It has one of these shapes, with F one of `run_type`, `name`, `status`, `session_id`,
 *    `metadata.<k>` (k without dots, not a name `Object.prototype` answers — `toString`, `valueOf`…),
 *    and `{"var": F}` without a default (a default would stand in for a missing field):
 *    - `{"==": [{"var": F}, s]}` (either order) where s is a string that `Number` reads as NaN: under
 *      JSON-logic's loose `==`, a number or boolean never equals such a string ("1" == 1 and "" == 0
 *      hold, so numeric and empty strings are never keys), null never does, and a string equals it
 *      only when identical; an array or object may (["llm"] == "llm"), so such a run probes every
 *      rule keyed on F. `===` takes any string s;
 *    - `{"in": [{"var": F}, [s1, …]]}`, every item a string: `in` on an array is `indexOf`, strict;
 *    - `{"!=": [{"var": F}, null]}` (or `!==`, either order): the field is present;
 *    - `{"in": [s, {"var": "tags"}]}`, s a string: `indexOf` on the tags array, strict (LangSmith's
 *      `has(tags, …)` and `eq(tags, …)` compile to it). A tags value that is a string (`in` would
 *      search it as text), an object, or an array longer than `MAX_INDEXED_TAGS` probes every rule
 *      keyed on tags.
 * 3. Every conjunct before the chosen one has a shape of 2. too, and on a run whose fields those
 *    conjuncts read are all regular (primitive; tags an array of at most `MAX_INDEXED_TAGS`) the
 *    conjuncts up to the chosen one cost at most the filter's step budget. A run where one of those
 *    fields is not regular probes every rule that reads it there (the field's `all` list).
 *
 * LangSmith strings are compiled to JSON-logic before this (`resolveRuleFilter`), so
 * `and(eq(run_type, "llm"), has(tags, "prod"))` is keyed like its tree. A rule that names a session
 * is keyed on it without conditions: the session check comes before the filter (and before a
 * trace-aware version's root or tree), and is strict.
 */

/** Tags arrays up to this long are probed element by element; longer ones reach every tag-keyed rule. */
export const MAX_INDEXED_TAGS = 1024;

/** A run field an index key reads. */
export type IndexField = "run_type" | "name" | "status" | "session_id" | "tags" | `metadata.${string}`;

const TOP_FIELDS: ReadonlySet<string> = new Set(["run_type", "name", "status", "session_id"]);

/** One list a rule version is entered in (its any-of keys, and the lists that keep it safe). */
export type IndexKey =
  /** Evaluated for every run of its tenant. */
  | { readonly kind: "broad" }
  /** Evaluated for every root run (a trace-aware version's `trace_filter` speaks of the root). */
  | { readonly kind: "root" }
  /** The run's field equals `value` (a tag: the tags hold it). */
  | { readonly kind: "value"; readonly field: IndexField; readonly value: string }
  /** The run's field is present (neither null nor missing). */
  | { readonly kind: "present"; readonly field: IndexField }
  /** The run's field is not regular (an object or array; tags not a short array): evaluate. */
  | { readonly kind: "all"; readonly field: IndexField };

export const BROAD: readonly IndexKey[] = Object.freeze([{ kind: "broad" }]);

/** What the index may skip a version on: its keys (a run must probe one) and its costed fields. */
interface Conjunct {
  readonly field: IndexField;
  readonly keys: readonly IndexKey[];
  /** Most steps it takes on a run whose field is regular. */
  readonly cost: number;
  /** Lower is more selective: tried first when several conjuncts could key the version. */
  readonly rank: number;
}

const RANK: Readonly<Record<string, number>> = { name: 0, session_id: 1, tags: 3, run_type: 4, status: 5 };
const rankOf = (field: IndexField, present: boolean): number => (present ? 6 : (RANK[field] ?? 2));

function fieldOf(logic: unknown): IndexField | undefined {
  if (!isOperation(logic)) return undefined;
  const { op, operands } = operationParts(logic);
  if (op !== "var" || operands.length !== 1) return undefined;
  const path = operands[0];
  if (typeof path !== "string") return undefined;
  if (TOP_FIELDS.has(path) || path === "tags") return path as IndexField;
  if (!path.startsWith("metadata.")) return undefined;
  const key = path.slice("metadata.".length);
  // A name Object.prototype answers would resolve on any metadata object (`metadata.toString`).
  if (key === "" || key.includes(".") || key in Object.prototype) return undefined;
  return path as IndexField;
}

/** A literal no number, boolean or null loosely equals, and only an identical string does among strings. */
function looseKey(value: unknown): value is string {
  return typeof value === "string" && Number.isNaN(Number(value));
}

/** The conjunct as an index condition, when it has one of the shapes above. */
export function conjunctKeys(logic: unknown): Conjunct | undefined {
  if (!isOperation(logic)) return undefined;
  const { op, operands } = operationParts(logic);
  if (operands.length !== 2) return undefined;
  const [a, b] = operands;
  const fa = fieldOf(a);
  const fb = fieldOf(b);
  const field = fa ?? fb;
  const other = fa !== undefined ? b : a;
  switch (op) {
    case "==":
    case "===": {
      if (field === undefined || field === "tags" || (fa !== undefined && fb !== undefined)) return undefined;
      if (typeof other !== "string" || (op === "==" && !looseKey(other))) return undefined;
      return { field, keys: [{ kind: "value", field, value: other }], cost: 2, rank: rankOf(field, false) };
    }
    case "!=":
    case "!==": {
      if (field === undefined || field === "tags" || other !== null) return undefined;
      return { field, keys: [{ kind: "present", field }], cost: 2, rank: rankOf(field, true) };
    }
    case "in": {
      if (fb === "tags" && typeof a === "string")
        return { field: fb, keys: [{ kind: "value", field: fb, value: a }], cost: MAX_INDEXED_TAGS + 2, rank: 3 };
      if (fa === undefined || fa === "tags" || !Array.isArray(b) || b.length === 0) return undefined;
      if (!b.every((item) => typeof item === "string")) return undefined;
      const values = [...new Set(b)];
      return {
        field: fa,
        keys: values.map((value) => ({ kind: "value" as const, field: fa, value })),
        cost: 2 + b.length,
        rank: rankOf(fa, false) + values.length,
      };
    }
    default:
      return undefined;
  }
}

export interface VersionShape {
  readonly sessionId: string | null;
  readonly enabled: boolean;
  /** The version judges runs with their trace; `treeFilter` whether it reads any run of the trace. */
  readonly traceAware: boolean;
  readonly treeFilter: boolean;
}

/**
 * The lists a version is entered in. A disabled version judges no run: none. A version with a tree
 * filter says something of runs its filter refuses: broad. A version that names a session: that
 * session. Otherwise the most selective conjunct of conditions 1–3 (`BROAD` when none qualifies),
 * plus the `all` lists of the fields read up to it, plus the root list when a `trace_filter` must see
 * every root run. `filter` undefined: the stored filter does not resolve (it answers "error"): broad.
 * Each key appears once in the answer (the rule book lists a version's keys without deduplicating).
 */
export function versionKeys(
  shape: VersionShape,
  filter: JsonLogicExpression | undefined,
  filterSteps: number,
): readonly IndexKey[] {
  if (!shape.enabled) return [];
  if (filter === undefined || shape.treeFilter) return BROAD;
  // The session check comes before everything, root or not.
  if (shape.sessionId !== null) return [{ kind: "value", field: "session_id", value: shape.sessionId }];
  const root: IndexKey[] = shape.traceAware ? [{ kind: "root" }] : [];
  let conjuncts: readonly unknown[] = [filter];
  let spent = 0;
  if (isOperation(filter)) {
    const { op, operands } = operationParts(filter);
    if (op === "and") {
      conjuncts = operands;
      spent = 1;
    }
  }
  let best: Conjunct | undefined;
  let bestAt = -1;
  const prefix: Conjunct[] = [];
  for (const logic of conjuncts) {
    const c = conjunctKeys(logic);
    if (c === undefined) break;
    spent += c.cost;
    if (spent > filterSteps) break;
    prefix.push(c);
    if (best === undefined || c.rank < best.rank) {
      best = c;
      bestAt = prefix.length - 1;
    }
  }
  if (best === undefined) return BROAD;
  const watched = new Set(prefix.slice(0, bestAt + 1).map((c) => c.field));
  return [...best.keys, ...[...watched].map((field) => ({ kind: "all" as const, field })), ...root];
}
