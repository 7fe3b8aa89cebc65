import type { Run, RuleVersion } from "@runhooks/contracts";
import { READS_ALL_FACTS, DEFAULT_FILTER_STEPS, runFacts, type FilterVerdict } from "../filter/index.js";
import { isTraceRoot } from "../trace/trace-run.js";
import { DEFAULT_TRACE_HORIZON_SECONDS, type TraceVerdict } from "../trace/trace-verdict.js";
import type { WindowSpec } from "../window/index.js";
import { ruleGate, type GatedRule } from "./gate.js";
import {
  createTenantIndex,
  indexedCandidates,
  rebuildTenantIndex,
  setRuleKeys,
  uniqueKeys,
  type TenantIndex,
} from "./rule-index.js";
import type { IndexKey } from "./index-keys.js";
import { compileVersion, type ResolvedFilter, type SlotFilter, type TraceFilters } from "./version-entry.js";

export { ruleGate, type RuleGate } from "./gate.js";

/**
 * Every rule version the evaluator has read from the rules topic, by the time it came into force.
 *
 * Invariant: a run of log time t is judged by, for each rule, the latest version whose
 * `effectiveFrom` (its append time on the rules topic) is at or before t. Replays therefore judge each
 * run as the first pass did, whatever changed since. Filters are compiled once per version.
 */

interface VersionEntry {
  readonly effectiveFrom: number;
  readonly version: number;
  /**
   * What the gate reads of the version (not the whole message: its filters live compiled, shared by
   * equal filters). Undefined: the rule was deleted at `effectiveFrom` (a tombstone).
   */
  readonly rule?: GatedRule;
  readonly spec?: WindowSpec;
  readonly filter?: SlotFilter;
  /** Set for a trace-aware version: its runs are judged with their trace (DESIGN.md §4). */
  readonly trace?: TraceFilters;
  /** The index lists the version belongs in (index-keys.ts); none for a tombstone. */
  readonly keys?: readonly IndexKey[];
}

/**
 * Per position of a tenant's index (its `rules`), the rule's newest version when the gate cannot
 * refuse it for that tenant: enabled, the tenant's, no session, every run sampled, not trace-aware.
 * A run at or after `from[i]` is judged by that version, so its filter decides at once: a candidate
 * is read from these three arrays of its tenant instead of its timeline, version and gate — over
 * thousands of tenants, objects seldom in the CPU's caches. Anything else takes the general path.
 */
interface PlainVersions {
  /**
   * The newest version's `effectiveFrom` (+Infinity where the general path decides). An array, not a
   * Float64Array: a typed array's separate backing store costs more to make than it saves per tenant.
   */
  readonly from: readonly number[];
  readonly filter: readonly (SlotFilter | undefined)[];
  readonly spec: readonly (WindowSpec | undefined)[];
}

interface RuleTimeline {
  readonly ruleId: string;
  readonly entries: VersionEntry[];
}

export interface RuleBook {
  readonly rules: Map<string, RuleTimeline>;
  /**
   * Tenant → the rules that ever had a version for it (the match loop checks the version in force), in
   * rule id order: the order the run's step budget is spent in, so it must not depend on the log's
   * history (compaction drops old versions and with them the order rules first appeared in).
   */
  readonly byTenant: Map<string, RuleTimeline[]>;
  /**
   * Tenant → its rules by index key (rule-index.ts): a run is tested only against those it may match.
   * Undefined when the book was created with `index: false` (every rule of the tenant is tested).
   */
  readonly indexByTenant: Map<string, TenantIndex<RuleTimeline, PlainVersions>> | undefined;
  /** Tenant → the derived facts any version of its rules may read (`derivedFactsRead`, bits). */
  readonly factsReadByTenant: Map<string, number>;
  longestWindowMs: number;
  /** The longest trace horizon of a trace-aware version (0: none): a restart refolds twice it. */
  longestHorizonMs: number;
  /**
   * Tenant → the highest rule id that ever had a trace-aware version for it: a trace-only pass
   * (`matchRun`'s `traceOnly`) judges the tenant's rules up to it, in id order, and none after.
   */
  readonly lastTraceRule: Map<string, string>;
  /**
   * Filter text → slot. Rules often repeat a filter (one per webhook team, per session…); within one
   * run's matching each distinct filter is evaluated once (a filter is a pure function of the facts).
   */
  readonly filterSlots: Map<string, number>;
  /** Per slot, the matching call that last evaluated it and its answer (see `matchRun`). */
  readonly memo: { call: number; readonly calledAt: number[]; readonly answer: FilterVerdict[] };
  /** Per slot, the compiled filter every version with that filter shares. */
  readonly slotFilters: SlotFilter[];
  /** Filters already resolved and validated, by field and text (`compileVersion`). */
  readonly resolvedFilters: Map<string, ResolvedFilter>;
  /** Steps each filter evaluation may take (see `compileFilter`). */
  readonly filterSteps: number;
  /** Steps all of a tenant's filters together may take on one run (`DEFAULT_RUN_STEPS`). */
  readonly runSteps: number;
  /** The horizon of a trace-aware version that names none (ms). */
  readonly traceHorizonMs: number;
}

/**
 * Steps one run may cost across all its tenant's filters: ten filters' full budgets. A tenant with a
 * thousand filters that each stay just inside their own budget would otherwise cost a thousand budgets
 * per run, and the other tenants would wait for them; past this, the tenant's remaining rules (in rule
 * id order) answer "error" for that run without being evaluated.
 */
export const DEFAULT_RUN_STEPS = 10 * DEFAULT_FILTER_STEPS;

export interface RuleBookOptions {
  /** Steps each filter evaluation may take; the default is `DEFAULT_FILTER_STEPS`. */
  readonly filterSteps?: number;
  /** Steps a run may take across all its tenant's filters; the default is `DEFAULT_RUN_STEPS`. */
  readonly runSteps?: number;
  /** Horizon of trace-aware versions without `trace_horizon_seconds`; default `DEFAULT_TRACE_HORIZON_SECONDS`. */
  readonly traceHorizonSeconds?: number;
  /**
   * Test runs only against the rules that could match them (index-keys.ts); default true. Verdicts are
   * the same either way; so are the steps spent, except that a rule the index skips spends none of the
   * run's budget (`runSteps`).
   */
  readonly index?: boolean;
}

export type ApplyOutcome =
  | { readonly kind: "applied"; readonly ruleId: string; readonly version: number }
  | { readonly kind: "deleted"; readonly ruleId: string }
  /** A version already known (a re-published message) or older than one known: ignored. */
  | { readonly kind: "stale"; readonly ruleId: string; readonly version: number }
  /**
   * A stored filter does not resolve (written under laxer limits, or a bare literal `resolveFilter`
   * refuses): the version matches nothing, and each run it is asked about gets the verdict "error"
   * with this message.
   */
  | { readonly kind: "invalid_filter"; readonly ruleId: string; readonly version: number; readonly error: string };

export function createRuleBook(options: RuleBookOptions = {}): RuleBook {
  return {
    rules: new Map(),
    byTenant: new Map(),
    indexByTenant: options.index === false ? undefined : new Map(),
    factsReadByTenant: new Map(),
    longestWindowMs: 0,
    longestHorizonMs: 0,
    lastTraceRule: new Map(),
    filterSlots: new Map(),
    slotFilters: [],
    resolvedFilters: new Map(),
    memo: { call: 0, calledAt: [], answer: [] },
    filterSteps: options.filterSteps ?? DEFAULT_FILTER_STEPS,
    runSteps: options.runSteps ?? DEFAULT_RUN_STEPS,
    traceHorizonMs: (options.traceHorizonSeconds ?? DEFAULT_TRACE_HORIZON_SECONDS) * 1000,
  };
}

/** Appends a version to the rule's timeline, the timeline made on its first (an array of one: most rules have one version). */
function pushEntry(book: RuleBook, ruleId: string, t: RuleTimeline | undefined, entry: VersionEntry): RuleTimeline {
  if (t !== undefined) {
    t.entries.push(entry);
    return t;
  }
  const made: RuleTimeline = { ruleId, entries: [entry] };
  book.rules.set(ruleId, made);
  return made;
}

function indexTenant(book: RuleBook, tenantId: string, t: RuleTimeline): void {
  const list = book.byTenant.get(tenantId);
  if (!list) book.byTenant.set(tenantId, [t]);
  else if (!list.includes(t)) {
    let at = list.length;
    while (at > 0 && list[at - 1]!.ruleId > t.ruleId) at -= 1;
    list.splice(at, 0, t);
  }
  reindex(book, tenantId, t);
}

/**
 * Marks the tenant's index for a rebuild after its rules changed (`reindex`): it is rebuilt when its
 * next run is judged, once however many batches of a start touched it.
 */
function rebuildIndex(book: RuleBook, tenantId: string): void {
  const index = book.indexByTenant?.get(tenantId);
  if (index !== undefined) index.built = false;
}

/** Rebuilds every index a change left unbuilt (`matchRun` rebuilds a tenant's on its first run). */
export function buildIndexes(book: RuleBook): void {
  for (const [tenantId, index] of book.indexByTenant ?? []) if (!index.built) buildIndex(book, tenantId, index);
}

/** Rebuilds the tenant's lists from its rules' keys, and its `PlainVersions`. */
function buildIndex(book: RuleBook, tenantId: string, index: TenantIndex<RuleTimeline, PlainVersions>): void {
  rebuildTenantIndex(index, book.byTenant.get(tenantId) ?? []);
  const n = index.rules.length;
  const from: number[] = new Array<number>(n).fill(Number.POSITIVE_INFINITY);
  const filter: (SlotFilter | undefined)[] = new Array<SlotFilter | undefined>(n).fill(undefined);
  const spec: (WindowSpec | undefined)[] = new Array<WindowSpec | undefined>(n).fill(undefined);
  for (const [i, t] of index.rules.entries()) {
    const e = t.entries.at(-1)!;
    const r = e.rule;
    if (r === undefined || e.trace !== undefined || r.tenant_id !== tenantId) continue;
    if (!r.enabled || r.session_id !== null || r.sampling_rate < 1) continue;
    from[i] = e.effectiveFrom;
    filter[i] = e.filter;
    spec[i] = e.spec;
  }
  index.hot = { from, filter, spec };
}

/**
 * Notes the keys of every version of the rule the book keeps for the tenant; the tenant's lists
 * follow at its `rebuildIndex`.
 */
function reindex(book: RuleBook, tenantId: string, t: RuleTimeline): void {
  if (book.indexByTenant === undefined) return;
  let index = book.indexByTenant.get(tenantId);
  if (index === undefined) {
    index = createTenantIndex();
    book.indexByTenant.set(tenantId, index);
  }
  setRuleKeys(index, t, tenantKeys(t, tenantId));
}

/** The union of the keys of the rule's versions for the tenant, each once. */
function tenantKeys(t: RuleTimeline, tenantId: string): readonly IndexKey[] {
  let only: readonly IndexKey[] | undefined;
  for (const e of t.entries) {
    if (e.rule?.tenant_id !== tenantId || e.keys === undefined || e.keys.length === 0) continue;
    // One version's keys are each once already (`versionKeys`); a union needs deduplicating.
    if (only !== undefined)
      return uniqueKeys(t.entries.flatMap((v) => (v.rule?.tenant_id === tenantId ? (v.keys ?? []) : [])));
    only = e.keys;
  }
  return only ?? [];
}

/** A message of the rules topic: a version of a rule, or its tombstone (`rule: null`). */
export interface RuleVersionMessage {
  readonly ruleId: string;
  readonly rule: RuleVersion | null;
  readonly effectiveFrom: number;
}

/**
 * Adds a version read from the rules topic. `effectiveFrom` must be non-decreasing across calls (the
 * rules topic has one partition and LogAppendTime); a tombstone is `rule: null`.
 */
export function applyRuleVersion(book: RuleBook, message: RuleVersionMessage): ApplyOutcome {
  return applyRuleVersions(book, [message])[0]!;
}

/**
 * Adds the versions of consecutive messages of the rules topic, in order: the book ends as after
 * `applyRuleVersion` on each in turn, but each rule's index lists are worked out once per batch, not
 * once per message (a start reads the whole topic in batches of thousands).
 */
export function applyRuleVersions(book: RuleBook, messages: readonly RuleVersionMessage[]): ApplyOutcome[] {
  const touched = new Map<string, Set<RuleTimeline>>();
  const outcomes = messages.map((message) => addVersion(book, message, touched));
  for (const [tenantId, timelines] of touched) {
    for (const t of timelines) indexTenant(book, tenantId, t);
    rebuildIndex(book, tenantId);
  }
  return outcomes;
}

/** Adds one version to its rule's timeline; notes in `touched` the (tenant, rule) to index. */
function addVersion(
  book: RuleBook,
  message: RuleVersionMessage,
  touched: Map<string, Set<RuleTimeline>>,
): ApplyOutcome {
  const known = book.rules.get(message.ruleId);
  const last = known?.entries.at(-1);
  if (message.rule === null) {
    if (last && last.rule === undefined) return { kind: "stale", ruleId: message.ruleId, version: last.version };
    const t = pushEntry(book, message.ruleId, known, {
      effectiveFrom: message.effectiveFrom,
      version: last?.version ?? 0,
    });
    // The rule's newest version is on its tenants' `PlainVersions`: they are rebuilt too.
    for (const e of t.entries) if (e.rule !== undefined) touch(touched, e.rule.tenant_id, t);
    return { kind: "deleted", ruleId: message.ruleId };
  }
  const rule = message.rule;
  if (last && rule.version <= last.version) return { kind: "stale", ruleId: rule.rule_id, version: rule.version };
  const compiled = compileVersion(book, rule);
  book.factsReadByTenant.set(rule.tenant_id, (book.factsReadByTenant.get(rule.tenant_id) ?? 0) | compiled.reads);
  book.longestWindowMs = Math.max(book.longestWindowMs, rule.window.seconds * 1000);
  if (compiled.trace) {
    book.longestHorizonMs = Math.max(book.longestHorizonMs, compiled.trace.spec.horizonMs);
    const last = book.lastTraceRule.get(rule.tenant_id);
    if (last === undefined || last < rule.rule_id) book.lastTraceRule.set(rule.tenant_id, rule.rule_id);
  }
  const t = pushEntry(book, message.ruleId, known, {
    effectiveFrom: message.effectiveFrom,
    version: rule.version,
    rule: gatedRule(rule),
    spec: compiled.spec,
    filter: compiled.filter,
    ...(compiled.trace ? { trace: compiled.trace } : {}),
    keys: compiled.keys,
  });
  // Every tenant of its kept versions: the newest is on their `PlainVersions` (a rule may move).
  for (const e of t.entries) if (e.rule !== undefined) touch(touched, e.rule.tenant_id, t);
  if (compiled.invalid !== undefined)
    return { kind: "invalid_filter", ruleId: rule.rule_id, version: rule.version, error: compiled.invalid };
  return { kind: "applied", ruleId: rule.rule_id, version: rule.version };
}

function touch(touched: Map<string, Set<RuleTimeline>>, tenantId: string, t: RuleTimeline): void {
  const rules = touched.get(tenantId);
  if (rules === undefined) touched.set(tenantId, new Set([t]));
  else rules.add(t);
}

function gatedRule(rule: RuleVersion): GatedRule {
  const { rule_id, tenant_id, session_id, enabled, sampling_rate, trace_filter, tree_filter } = rule;
  return { rule_id, tenant_id, session_id, enabled, sampling_rate, trace_filter, tree_filter };
}

/** The version in force at `time`: usually the newest, so search from the end. */
function inForce(t: RuleTimeline, time: number): VersionEntry | undefined {
  for (let i = t.entries.length - 1; i >= 0; i--) {
    const e = t.entries[i]!;
    if (e.effectiveFrom <= time) return e;
  }
  return undefined;
}

const NO_MATCHES: readonly WindowSpec[] = Object.freeze([]);

/** One run's matching: its facts, the memo call it owns, the steps spent, the last "error"'s reason. */
interface Pass {
  readonly book: RuleBook;
  readonly facts: Record<string, unknown>;
  readonly call: number;
  spent: number;
  error: string;
}

/** A filter's verdict on the pass' run: memoised per slot, charged to the run's step budget. */
function verdictOf(p: Pass, f: SlotFilter): FilterVerdict {
  const memo = p.book.memo;
  p.error = f.errorMessage;
  if (f.slot >= 0 && memo.calledAt[f.slot] === p.call) return memo.answer[f.slot]!;
  if (p.spent >= p.book.runSteps) {
    p.error = runBudgetMessage(p.book.runSteps);
    return "error";
  }
  const verdict = f.evaluate(p.facts);
  p.spent += f.evaluate.lastSteps;
  if (f.slot >= 0) {
    memo.calledAt[f.slot] = p.call;
    memo.answer[f.slot] = verdict;
  }
  return verdict;
}

/**
 * The windows a run joins: rules of its tenant (and session, when the rule names one) whose version
 * in force at `time` is enabled, sampled the run, and whose filter holds (`ruleGate`, then the
 * filter). Only the run's tenant's rules are looked at; the facts (derived variables) are computed
 * once, and only if some rule needs them (`factsOf` may be `attachFacts` when the caller owns the run
 * object; it is told which derived facts the tenant's filters may read).
 *
 * A trace-aware version (DESIGN.md §4) never returns a window here: its filter, its `tree_filter`,
 * and for the trace's root its `trace_filter`, are judged in the same pass and budget, and told to
 * `onTrace` when the run is a candidate, satisfies the tree filter or is the root. Without `onTrace`,
 * trace-aware versions are not evaluated.
 *
 * A filter whose verdict is "error" (its evaluation ran out of budget, or the stored filter is not
 * valid) does not match; `onError` is called once per (run, rule) with that verdict and the reason.
 *
 * `traceOnly` (a restart's trace prefix, DESIGN.md §4) wants only what `onTrace` is told: the tenant's
 * rules after its last trace-aware one (in id order) are not judged, since they cannot change it; those
 * before it still are, as they spend the run's step budget the trace-aware ones then have. A tenant
 * without trace-aware rules is not judged at all.
 */
export function matchRun(
  book: RuleBook,
  run: Run,
  time: number,
  factsOf: (run: Run, reads: number) => Record<string, unknown> = runFacts,
  onError?: (spec: WindowSpec, error: string) => void,
  onTrace?: (verdict: TraceVerdict) => void,
  traceOnly = false,
): readonly WindowSpec[] {
  const index = book.indexByTenant?.get(run.tenant_id);
  if (index !== undefined && !index.built) buildIndex(book, run.tenant_id, index);
  // Without an index: every rule of the tenant, in id order; with one: positions in its `rules`.
  const rules = index === undefined ? book.byTenant.get(run.tenant_id) : index.rules;
  if (rules === undefined) return NO_MATCHES;
  const at = index === undefined ? undefined : indexedCandidates(index, run);
  const count = at === undefined ? rules.length : at.length;
  const last = traceOnly ? book.lastTraceRule.get(run.tenant_id) : undefined;
  if (traceOnly && last === undefined) return NO_MATCHES;
  let pass: Pass | undefined;
  let out: WindowSpec[] | undefined;
  let root: boolean | undefined;
  const hot = index?.hot;
  for (let k = 0; k < count; k++) {
    const i = at === undefined ? k : at[k]!;
    if (last !== undefined && rules[i]!.ruleId > last) break;
    let filter: SlotFilter;
    let spec: WindowSpec;
    let trace: TraceFilters | undefined;
    if (hot !== undefined && time >= hot.from[i]!) {
      // The newest version is in force and the gate cannot refuse it (`PlainVersions`).
      filter = hot.filter[i]!;
      spec = hot.spec[i]!;
    } else {
      const e = inForce(rules[i]!, time);
      const rule = e?.rule;
      if (rule === undefined || (e!.trace !== undefined && onTrace === undefined) || ruleGate(rule, run) !== undefined)
        continue;
      filter = e!.filter!;
      spec = e!.spec!;
      trace = e!.trace;
    }
    pass ??= {
      book,
      facts: factsOf(run, book.factsReadByTenant.get(run.tenant_id) ?? READS_ALL_FACTS),
      call: ++book.memo.call,
      spent: 0,
      error: "",
    };
    const verdict = verdictOf(pass, filter);
    let error = verdict === "error" ? pass.error : undefined;
    if (trace === undefined) {
      if (verdict === true) (out ??= []).push(spec);
      else if (error !== undefined) onError?.(spec, error);
      continue;
    }
    let tree: FilterVerdict = false;
    if (trace.treeFilter !== undefined) {
      tree = verdictOf(pass, trace.treeFilter);
      if (tree === "error") error ??= pass.error;
    }
    root ??= isTraceRoot(run);
    let passes: FilterVerdict | undefined;
    if (root) {
      passes = trace.traceFilter === undefined ? true : verdictOf(pass, trace.traceFilter);
      if (passes === "error") error ??= pass.error;
    }
    if (error !== undefined) onError?.(spec, error);
    if (verdict === true || tree === true || root)
      onTrace!({
        spec: trace.spec,
        candidate: verdict === true,
        tree: tree === true,
        root: root ? passes === true : undefined,
      });
  }
  return out ?? NO_MATCHES;
}

function runBudgetMessage(runSteps: number): string {
  return `not evaluated: this run already took the ${runSteps.toLocaleString("en-US")} steps all of the tenant's filters may take on one run (rules are evaluated in id order) — simplify the tenant's most expensive filters`;
}

/**
 * Forgets the versions no run of log time `time` or later can be judged by: for each rule, those
 * before the one in force at `time`. Call it with a time no run will be judged at again — below every
 * runs partition's refold start (`refoldFromTime` of its checkpoint) and every replay's range; runs
 * before it would find no version. The rule keeps its place and its newest version, so re-published
 * older versions stay stale; its index keys shrink to those of the versions kept. Returns the number
 * of versions dropped.
 */
export function dropVersionsBefore(book: RuleBook, time: number): number {
  let dropped = 0;
  const reindexed = new Set<string>();
  for (const t of book.rules.values()) {
    let inForceAt = -1;
    for (let i = t.entries.length - 1; i >= 0; i--) {
      if (t.entries[i]!.effectiveFrom <= time) {
        inForceAt = i;
        break;
      }
    }
    if (inForceAt <= 0) continue;
    const tenants = new Set(t.entries.flatMap((e) => (e.rule === undefined ? [] : [e.rule.tenant_id])));
    t.entries.splice(0, inForceAt);
    dropped += inForceAt;
    for (const tenant of tenants) {
      reindex(book, tenant, t);
      reindexed.add(tenant);
    }
  }
  for (const tenant of reindexed) rebuildIndex(book, tenant);
  return dropped;
}
