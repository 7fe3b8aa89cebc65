import type { Run, RuleVersion } from "@runhooks/contracts";
import {
  READS_ALL_FACTS,
  DEFAULT_FILTER_STEPS,
  budgetExhaustedMessage,
  compileFilter,
  derivedFactsRead,
  resolveFilter,
  runFacts,
  type CompiledFilter,
  type FilterVerdict,
} from "../filter/index.js";
import { sampled } from "../sampling.js";
import type { WindowSpec } from "../window/index.js";

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
  /** Undefined: the rule was deleted at `effectiveFrom` (a tombstone). */
  readonly rule?: RuleVersion;
  readonly filter?: CompiledFilter | InvalidFilter;
  /** What a verdict of "error" means for this version (told to the tenant through `onError`). */
  readonly errorMessage?: string;
  /** Index of this filter's text in `filterSlots`: rules with the same filter share it (-1: none). */
  readonly slot?: number;
  readonly spec?: WindowSpec;
}

/** A stored filter that does not validate: never compiled, it answers "error" at no cost. */
type InvalidFilter = ((facts: Record<string, unknown>) => FilterVerdict) & { readonly lastSteps: 0 };

const invalidFilter: InvalidFilter = Object.assign((): FilterVerdict => "error", { lastSteps: 0 as const });

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
  /** Tenant → the derived facts any version of its rules may read (`derivedFactsRead`, bits). */
  readonly factsReadByTenant: Map<string, number>;
  longestWindowMs: number;
  /**
   * Filter text → slot. Rules often repeat a filter (one per webhook team, per session…); within one
   * run's matching each distinct filter is evaluated once (a filter is a pure function of the facts).
   */
  readonly filterSlots: Map<string, number>;
  /** Per slot, the matching call that last evaluated it and its answer (see `matchRun`). */
  readonly memo: { call: number; readonly calledAt: number[]; readonly answer: FilterVerdict[] };
  /** Steps each filter evaluation may take (see `compileFilter`). */
  readonly filterSteps: number;
  /** Steps all of a tenant's filters together may take on one run (`DEFAULT_RUN_STEPS`). */
  readonly runSteps: number;
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
}

export type ApplyOutcome =
  | { readonly kind: "applied"; readonly ruleId: string; readonly version: number }
  | { readonly kind: "deleted"; readonly ruleId: string }
  /** A version already known (a re-published message) or older than one known: ignored. */
  | { readonly kind: "stale"; readonly ruleId: string; readonly version: number }
  /**
   * The stored filter does not resolve (written under laxer limits, or a bare literal `resolveFilter`
   * refuses): the version matches nothing, and each run it is asked about gets the verdict "error"
   * with this message.
   */
  | { readonly kind: "invalid_filter"; readonly ruleId: string; readonly version: number; readonly error: string };

export function createRuleBook(options: RuleBookOptions = {}): RuleBook {
  return {
    rules: new Map(),
    byTenant: new Map(),
    factsReadByTenant: new Map(),
    longestWindowMs: 0,
    filterSlots: new Map(),
    memo: { call: 0, calledAt: [], answer: [] },
    filterSteps: options.filterSteps ?? DEFAULT_FILTER_STEPS,
    runSteps: options.runSteps ?? DEFAULT_RUN_STEPS,
  };
}

function timeline(book: RuleBook, ruleId: string): RuleTimeline {
  let t = book.rules.get(ruleId);
  if (!t) {
    t = { ruleId, entries: [] };
    book.rules.set(ruleId, t);
  }
  return t;
}

function indexTenant(book: RuleBook, tenantId: string, t: RuleTimeline): void {
  const list = book.byTenant.get(tenantId);
  if (!list) book.byTenant.set(tenantId, [t]);
  else if (!list.includes(t)) {
    let at = list.length;
    while (at > 0 && list[at - 1]!.ruleId > t.ruleId) at -= 1;
    list.splice(at, 0, t);
  }
}

/**
 * Adds a version read from the rules topic. `effectiveFrom` must be non-decreasing across calls (the
 * rules topic has one partition and LogAppendTime); a tombstone is `rule: null`.
 */
export function applyRuleVersion(
  book: RuleBook,
  message: { readonly ruleId: string; readonly rule: RuleVersion | null; readonly effectiveFrom: number },
): ApplyOutcome {
  const t = timeline(book, message.ruleId);
  const last = t.entries.at(-1);
  if (message.rule === null) {
    if (last && last.rule === undefined) return { kind: "stale", ruleId: message.ruleId, version: last.version };
    t.entries.push({ effectiveFrom: message.effectiveFrom, version: last?.version ?? 0 });
    return { kind: "deleted", ruleId: message.ruleId };
  }
  const rule = message.rule;
  if (last && rule.version <= last.version) return { kind: "stale", ruleId: rule.rule_id, version: rule.version };
  // As written: JSON-logic, or a LangSmith string (the rules topic carries the filter unchanged).
  const valid = resolveFilter(rule.filter);
  const spec: WindowSpec = {
    ruleId: rule.rule_id,
    ruleVersion: rule.version,
    tenantId: rule.tenant_id,
    seconds: rule.window.seconds,
    maxRuns: rule.window.max_runs,
  };
  indexTenant(book, rule.tenant_id, t);
  const reads = (book.factsReadByTenant.get(rule.tenant_id) ?? 0) | (valid.ok ? derivedFactsRead(valid.tree) : 0);
  book.factsReadByTenant.set(rule.tenant_id, reads);
  book.longestWindowMs = Math.max(book.longestWindowMs, rule.window.seconds * 1000);
  if (!valid.ok) {
    // Never compiled: a filter stored before a limit existed cannot run unbounded.
    const error = valid.issues.map((i) => `${i.path}: ${i.message}`).join("; ");
    const errorMessage = `the rule's filter is not valid, so it matches nothing: ${error}`;
    t.entries.push({
      effectiveFrom: message.effectiveFrom,
      version: rule.version,
      rule,
      spec,
      filter: invalidFilter,
      errorMessage,
    });
    return { kind: "invalid_filter", ruleId: rule.rule_id, version: rule.version, error };
  }
  // A string and the JSON-logic it means share a slot.
  const text = JSON.stringify(valid.tree);
  let slot = book.filterSlots.get(text);
  if (slot === undefined) {
    slot = book.filterSlots.size;
    book.filterSlots.set(text, slot);
    book.memo.calledAt.push(0);
    book.memo.answer.push(false);
  }
  const filter = compileFilter(valid.tree, { maxSteps: book.filterSteps });
  const errorMessage = budgetExhaustedMessage(filter.maxSteps);
  t.entries.push({
    effectiveFrom: message.effectiveFrom,
    version: rule.version,
    rule,
    spec,
    filter,
    errorMessage,
    slot,
  });
  return { kind: "applied", ruleId: rule.rule_id, version: rule.version };
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

/** Why a rule version does not judge a run at all, before its filter; the evaluator's order. */
export type RuleGate = "disabled" | "other_tenant" | "other_session" | "sampled_out";

/**
 * The checks before the filter, in the evaluator's order: enabled, same tenant, same session (when the
 * rule names one), sampled in. Sampling comes before the filter, so a sampled-out run never costs a
 * filter evaluation and never reports a filter error. Undefined: the filter decides.
 */
export function ruleGate(
  rule: Pick<RuleVersion, "rule_id" | "tenant_id" | "session_id" | "enabled" | "sampling_rate">,
  run: Pick<Run, "id" | "tenant_id" | "session_id">,
): RuleGate | undefined {
  if (!rule.enabled) return "disabled";
  if (rule.tenant_id !== run.tenant_id) return "other_tenant";
  if (rule.session_id !== null && rule.session_id !== run.session_id) return "other_session";
  if (rule.sampling_rate < 1 && !sampled(rule.rule_id, run.id, rule.sampling_rate)) return "sampled_out";
  return undefined;
}

/**
 * The windows a run joins: rules of its tenant (and session, when the rule names one) whose version
 * in force at `time` is enabled, sampled the run, and whose filter holds (`ruleGate`, then the
 * filter). Only the run's tenant's rules are looked at; the facts (derived variables) are computed
 * once, and only if some rule needs them (`factsOf` may be `attachFacts` when the caller owns the run
 * object; it is told which derived facts the tenant's filters may read).
 *
 * A filter whose verdict is "error" (its evaluation ran out of budget, or the stored filter is not
 * valid) does not match; `onError` is called once per (run, rule) with that verdict and the reason.
 */
export function matchRun(
  book: RuleBook,
  run: Run,
  time: number,
  factsOf: (run: Run, reads: number) => Record<string, unknown> = runFacts,
  onError?: (spec: WindowSpec, error: string) => void,
): readonly WindowSpec[] {
  const candidates = book.byTenant.get(run.tenant_id);
  if (candidates === undefined) return NO_MATCHES;
  let facts: Record<string, unknown> | undefined;
  let out: WindowSpec[] | undefined;
  const memo = book.memo;
  const call = ++memo.call;
  let spent = 0;
  for (const t of candidates) {
    const e = inForce(t, time);
    const rule = e?.rule;
    if (rule === undefined || ruleGate(rule, run) !== undefined) continue;
    facts ??= factsOf(run, book.factsReadByTenant.get(run.tenant_id) ?? READS_ALL_FACTS);
    const slot = e!.slot ?? -1;
    let verdict: FilterVerdict;
    let error = e!.errorMessage;
    if (slot >= 0 && memo.calledAt[slot] === call) verdict = memo.answer[slot]!;
    else if (spent >= book.runSteps) {
      verdict = "error";
      error = runBudgetMessage(book.runSteps);
    } else {
      const filter = e!.filter!;
      verdict = filter(facts);
      spent += filter.lastSteps;
      if (slot >= 0) {
        memo.calledAt[slot] = call;
        memo.answer[slot] = verdict;
      }
    }
    if (verdict !== true) {
      if (verdict === "error") onError?.(e!.spec!, error ?? "the filter could not be evaluated");
      continue;
    }
    (out ??= []).push(e!.spec!);
  }
  return out ?? NO_MATCHES;
}

function runBudgetMessage(runSteps: number): string {
  return `not evaluated: this run already took the ${runSteps.toLocaleString("en-US")} steps all of the tenant's filters may take on one run (rules are evaluated in id order) — simplify the tenant's most expensive filters`;
}
