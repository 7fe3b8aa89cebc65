import type { Run } from "@runhooks/contracts";
import { isTraceRoot } from "../trace/trace-run.js";
import { MAX_INDEXED_TAGS, type IndexField, type IndexKey } from "./index-keys.js";

/**
 * One tenant's rules by index key (index-keys.ts says what a key promises): the lists a run probes
 * are its field values', and together they hold every rule whose version in force could match it.
 *
 * The lists hold positions in `rules`, the tenant's indexed rules in rule id order, each list
 * ascending: a run's candidates are put in id order (the order its step budget is spent in) by
 * comparing small integers, never rule ids. With thousands of tenants a run's rules are seldom in the
 * CPU's caches, and comparing ids read two strings per comparison from memory. The lists are rebuilt
 * whole from `keysOf` after each change to the tenant's rules (`rebuildTenantIndex`): rules change a
 * batch at a time, runs are judged millions of times.
 */

/** What the index holds: a rule's timeline. */
export interface Indexed {
  readonly ruleId: string;
}

interface FieldLists {
  readonly byValue: Map<string, number[]>;
  readonly present: number[];
  readonly all: number[];
}

export interface TenantIndex<T extends Indexed, H = unknown> {
  /** The tenant's rules that have keys, in rule id order; the lists are positions in it. */
  rules: readonly T[];
  /** What the rule book keeps per position beside `rules` (rebuilt with them; never read here). */
  hot: H | undefined;
  /** False while `keysOf` changed since the lists were last rebuilt. */
  built: boolean;
  broad: readonly number[];
  root: readonly number[];
  fields: Map<IndexField, FieldLists>;
  /** The keys each rule is listed under: what the lists are rebuilt from. */
  readonly keysOf: Map<T, readonly IndexKey[]>;
}

export function createTenantIndex<T extends Indexed, H>(): TenantIndex<T, H> {
  return { rules: [], hot: undefined, built: true, broad: [], root: [], fields: new Map(), keysOf: new Map() };
}

const keyText = (k: IndexKey): string =>
  k.kind === "value"
    ? `v\0${k.field}\0${k.value}`
    : k.kind === "broad" || k.kind === "root"
      ? k.kind
      : `${k.kind}\0${k.field}`;

/** The union of keys, each once. */
export function uniqueKeys(keys: Iterable<IndexKey>): IndexKey[] {
  const seen = new Map<string, IndexKey>();
  for (const k of keys) if (!seen.has(keyText(k))) seen.set(keyText(k), k);
  return [...seen.values()];
}

/**
 * Records that `t` is listed under exactly `keys` (each once; none: not listed). The lists change
 * only at the next `rebuildTenantIndex`.
 */
export function setRuleKeys<T extends Indexed, H>(index: TenantIndex<T, H>, t: T, keys: readonly IndexKey[]): void {
  if (keys.length === 0) index.keysOf.delete(t);
  else index.keysOf.set(t, keys);
}

/**
 * Rebuilds the lists from `keysOf`: the rules in id order, and each key's positions ascending.
 * `ordered`: the tenant's rules in id order, every rule of `keysOf` among them.
 */
export function rebuildTenantIndex<T extends Indexed, H>(index: TenantIndex<T, H>, ordered: readonly T[]): void {
  const rules = ordered.filter((t) => index.keysOf.has(t));
  const broad: number[] = [];
  const root: number[] = [];
  const fields = new Map<IndexField, FieldLists>();
  for (const [at, t] of rules.entries()) {
    for (const k of index.keysOf.get(t)!) {
      if (k.kind === "broad") broad.push(at);
      else if (k.kind === "root") root.push(at);
      else {
        let lists = fields.get(k.field);
        if (lists === undefined) {
          lists = { byValue: new Map(), present: [], all: [] };
          fields.set(k.field, lists);
        }
        if (k.kind === "present") lists.present.push(at);
        else if (k.kind === "all") lists.all.push(at);
        else {
          const list = lists.byValue.get(k.value);
          if (list === undefined) lists.byValue.set(k.value, [at]);
          else list.push(at);
        }
      }
    }
  }
  index.rules = rules;
  index.built = true;
  index.broad = broad;
  index.root = root;
  index.fields = fields;
}

/** A field value the index can key on: a string, or present without being one (number, boolean). */
function probeValue(lists: FieldLists, value: unknown, found: (readonly number[])[]): void {
  if (value === null || value === undefined) return;
  if (typeof value === "object") {
    // ["llm"] == "llm": an array or object may loosely equal any key, and may cost any number of steps.
    if (lists.all.length > 0) found.push(lists.all);
    return;
  }
  if (lists.present.length > 0) found.push(lists.present);
  if (typeof value === "string") {
    const list = lists.byValue.get(value);
    if (list !== undefined) found.push(list);
  }
}

function probeTags(lists: FieldLists, tags: unknown, found: (readonly number[])[]): void {
  if (tags === null || tags === undefined || typeof tags === "number" || typeof tags === "boolean") return;
  if (!Array.isArray(tags) || tags.length > MAX_INDEXED_TAGS) {
    // A string is searched as text by `in`; a long array may cost more than the budget.
    if (lists.all.length > 0) found.push(lists.all);
    return;
  }
  for (const tag of tags as readonly unknown[]) {
    if (typeof tag !== "string") continue;
    const list = lists.byValue.get(tag);
    if (list !== undefined) found.push(list);
  }
}

const isPlainObject = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The rules of the tenant a run may match, as ascending positions in `index.rules` (rule id order),
 * each once: those listed under a key its fields probe, the broad ones, and for a trace's root the
 * root list. The array may be one of the index's own lists: read it, never change it.
 */
export function indexedCandidates<T extends Indexed, H>(index: TenantIndex<T, H>, run: Run): readonly number[] {
  // Fresh arrays: young garbage costs less than resetting a kept array's length.
  const found: (readonly number[])[] = [];
  if (index.broad.length > 0) found.push(index.broad);
  if (index.root.length > 0 && isTraceRoot(run)) found.push(index.root);
  if (index.fields.size > 0) {
    const fields = run as unknown as Readonly<Record<string, unknown>>;
    // As the `metadata` fact is derived (facts.ts): `extra.metadata`, an empty object when absent.
    const metadata: unknown = run.extra?.metadata ?? {};
    const metadataIsObject = isPlainObject(metadata);
    for (const [field, lists] of index.fields) {
      if (field === "tags") probeTags(lists, run.tags, found);
      else if (!field.startsWith("metadata.")) probeValue(lists, fields[field], found);
      else if (metadataIsObject) probeValue(lists, metadata[field.slice("metadata.".length)], found);
      else if (lists.all.length > 0) found.push(lists.all);
    }
  }
  if (found.length === 0) return NONE;
  if (found.length === 1) return found[0]!;
  return mergePositions(found);
}

const NONE: readonly number[] = Object.freeze([]);

/** The union of ascending lists, ascending, each position once. */
function mergePositions(lists: readonly (readonly number[])[]): readonly number[] {
  const out: number[] = [];
  for (const list of lists) for (const at of list) out.push(at);
  if (out.length <= 32) {
    // Insertion sort: a run's candidates are few.
    for (let i = 1; i < out.length; i++) {
      const v = out[i]!;
      let j = i - 1;
      while (j >= 0 && out[j]! > v) {
        out[j + 1] = out[j]!;
        j--;
      }
      out[j + 1] = v;
    }
  } else out.sort((a, b) => a - b);
  let n = 0;
  for (let i = 0; i < out.length; i++) if (i === 0 || out[i] !== out[n - 1]) out[n++] = out[i]!;
  return n === out.length ? out : out.slice(0, n);
}
