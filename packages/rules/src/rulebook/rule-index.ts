import type { Run } from "@runhooks/contracts";
import { isTraceRoot } from "../trace/trace-run.js";
import { MAX_INDEXED_TAGS, type IndexField, type IndexKey } from "./index-keys.js";

/**
 * One tenant's rules by index key (index-keys.ts says what a key promises): the lists a run probes
 * are its field values', and together they hold every rule whose version in force could match it.
 * Every list is in rule id order, the order a run's step budget is spent in.
 */

/** What the index holds: a rule's timeline, marked by the last lookup that collected it. */
export interface Indexed {
  readonly ruleId: string;
  lookupMark: number;
}

interface FieldLists<T> {
  readonly byValue: Map<string, T[]>;
  readonly present: T[];
  readonly all: T[];
}

export interface TenantIndex<T extends Indexed> {
  readonly broad: T[];
  readonly root: T[];
  readonly fields: Map<IndexField, FieldLists<T>>;
  /** The keys each rule is listed under, to take it out when they change. */
  readonly keysOf: Map<T, readonly IndexKey[]>;
}

export function createTenantIndex<T extends Indexed>(): TenantIndex<T> {
  return { broad: [], root: [], fields: new Map(), keysOf: new Map() };
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

function fieldLists<T extends Indexed>(index: TenantIndex<T>, field: IndexField): FieldLists<T> {
  let lists = index.fields.get(field);
  if (lists === undefined) {
    lists = { byValue: new Map(), present: [], all: [] };
    index.fields.set(field, lists);
  }
  return lists;
}

/** The list a key names; `create` false: undefined when it does not exist yet. */
function listOf<T extends Indexed>(index: TenantIndex<T>, k: IndexKey, create: boolean): T[] | undefined {
  if (k.kind === "broad") return index.broad;
  if (k.kind === "root") return index.root;
  const lists = create ? fieldLists(index, k.field) : index.fields.get(k.field);
  if (lists === undefined) return undefined;
  if (k.kind === "present") return lists.present;
  if (k.kind === "all") return lists.all;
  let list = lists.byValue.get(k.value);
  if (list === undefined && create) {
    list = [];
    lists.byValue.set(k.value, list);
  }
  return list;
}

function insertSorted<T extends Indexed>(list: T[], t: T): void {
  let at = list.length;
  while (at > 0 && list[at - 1]!.ruleId > t.ruleId) at -= 1;
  if (list[at - 1] !== t) list.splice(at, 0, t);
}

/** Lists `t` under exactly `keys`, each key once (taking it out of the lists it no longer belongs to). */
export function setRuleKeys<T extends Indexed>(index: TenantIndex<T>, t: T, keys: readonly IndexKey[]): void {
  const before = index.keysOf.get(t);
  if (before === undefined) {
    // A rule new to the tenant: nothing to take out (`keys` holds each key once).
    for (const k of keys) insertSorted(listOf(index, k, true)!, t);
    if (keys.length > 0) index.keysOf.set(t, keys);
    return;
  }
  const after = new Set(keys.map(keyText));
  for (const k of before) {
    if (after.has(keyText(k))) continue;
    const list = listOf(index, k, false);
    const at = list?.indexOf(t) ?? -1;
    if (at >= 0) list!.splice(at, 1);
    if (k.kind === "value" && list?.length === 0) index.fields.get(k.field)?.byValue.delete(k.value);
  }
  const had = new Set(before.map(keyText));
  for (const k of keys) if (!had.has(keyText(k))) insertSorted(listOf(index, k, true)!, t);
  if (keys.length === 0) index.keysOf.delete(t);
  else index.keysOf.set(t, keys);
}

/** A field value the index can key on: a string, or present without being one (number, boolean). */
function probeValue<T extends Indexed>(lists: FieldLists<T>, value: unknown, found: T[][]): void {
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

function probeTags<T extends Indexed>(lists: FieldLists<T>, tags: unknown, found: T[][]): void {
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
 * The rules of the tenant a run may match, in rule id order, each once: those listed under a key its
 * fields probe, the broad ones, and for a trace's root the root list. The array may be one of the
 * index's own lists: read it, never change it. `marks` is shared by every tenant's index of one book
 * (a rule listed for two tenants keeps one mark).
 */
export function indexedCandidates<T extends Indexed>(
  index: TenantIndex<T>,
  run: Run,
  marks: { last: number },
): readonly T[] {
  const found: T[][] = [];
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
  if (found.length === 0) return [];
  if (found.length === 1) return found[0]!;
  const mark = ++marks.last;
  const out: T[] = [];
  for (const list of found) {
    for (const t of list) {
      if (t.lookupMark === mark) continue;
      t.lookupMark = mark;
      out.push(t);
    }
  }
  return out.sort((a, b) => (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0));
}
