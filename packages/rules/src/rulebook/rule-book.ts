import type { Run, RuleVersion } from "@runhooks/contracts";
import { READS_ALL_FACTS, compileFilter, derivedFactsRead, runFacts, validateFilter, type CompiledFilter } from "../filter/index.js";
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
  readonly filter?: CompiledFilter;
  /** Index of this filter's text in `filterSlots`: rules with the same filter share it (-1: none). */
  readonly slot?: number;
  readonly spec?: WindowSpec;
}

interface RuleTimeline {
  readonly ruleId: string;
  readonly entries: VersionEntry[];
}

export interface RuleBook {
  readonly rules: Map<string, RuleTimeline>;
  /** Tenant → the rules that ever had a version for it (the match loop checks the version in force). */
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
  readonly memo: { call: number; readonly calledAt: number[]; readonly answer: boolean[] };
}

export type ApplyOutcome =
  | { readonly kind: "applied"; readonly ruleId: string; readonly version: number }
  | { readonly kind: "deleted"; readonly ruleId: string }
  /** A version already known (a re-published message) or older than one known: ignored. */
  | { readonly kind: "stale"; readonly ruleId: string; readonly version: number }
  /** The stored filter does not validate (written by an older, laxer API?): the version matches nothing. */
  | { readonly kind: "invalid_filter"; readonly ruleId: string; readonly version: number; readonly error: string };

export function createRuleBook(): RuleBook {
  return { rules: new Map(), byTenant: new Map(), factsReadByTenant: new Map(), longestWindowMs: 0, filterSlots: new Map(), memo: { call: 0, calledAt: [], answer: [] } };
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
  else if (!list.includes(t)) list.push(t);
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
  const valid = validateFilter(rule.filter);
  const spec: WindowSpec = {
    ruleId: rule.rule_id,
    ruleVersion: rule.version,
    tenantId: rule.tenant_id,
    seconds: rule.window.seconds,
    maxRuns: rule.window.max_runs,
  };
  indexTenant(book, rule.tenant_id, t);
  const reads = (book.factsReadByTenant.get(rule.tenant_id) ?? 0) | (valid.ok ? derivedFactsRead(valid.value) : 0);
  book.factsReadByTenant.set(rule.tenant_id, reads);
  book.longestWindowMs = Math.max(book.longestWindowMs, rule.window.seconds * 1000);
  if (!valid.ok) {
    t.entries.push({ effectiveFrom: message.effectiveFrom, version: rule.version, rule, spec, filter: () => false });
    const error = valid.issues.map((i) => `${i.path}: ${i.message}`).join("; ");
    return { kind: "invalid_filter", ruleId: rule.rule_id, version: rule.version, error };
  }
  const text = JSON.stringify(valid.value);
  let slot = book.filterSlots.get(text);
  if (slot === undefined) {
    slot = book.filterSlots.size;
    book.filterSlots.set(text, slot);
    book.memo.calledAt.push(0);
    book.memo.answer.push(false);
  }
  t.entries.push({ effectiveFrom: message.effectiveFrom, version: rule.version, rule, spec, filter: compileFilter(valid.value), slot });
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

/**
 * The windows a run joins: rules of its tenant (and session, when the rule names one) whose version
 * in force at `time` is enabled, sampled the run, and whose filter holds. Only the run's tenant's rules
 * are looked at; the facts (derived variables) are computed once, and only if some rule needs them
 * (`factsOf` may be `attachFacts` when the caller owns the run object; it is told which derived
 * facts the tenant's filters may read).
 */
export function matchRun(
  book: RuleBook,
  run: Run,
  time: number,
  factsOf: (run: Run, reads: number) => Record<string, unknown> = runFacts,
): readonly WindowSpec[] {
  const candidates = book.byTenant.get(run.tenant_id);
  if (candidates === undefined) return NO_MATCHES;
  let facts: Record<string, unknown> | undefined;
  let out: WindowSpec[] | undefined;
  const memo = book.memo;
  const call = ++memo.call;
  for (const t of candidates) {
    const e = inForce(t, time);
    const rule = e?.rule;
    if (rule === undefined || !rule.enabled || rule.tenant_id !== run.tenant_id) continue;
    if (rule.session_id !== null && rule.session_id !== run.session_id) continue;
    if (rule.sampling_rate < 1 && !sampled(rule.rule_id, run.id, rule.sampling_rate)) continue;
    facts ??= factsOf(run, book.factsReadByTenant.get(run.tenant_id) ?? READS_ALL_FACTS);
    const slot = e!.slot ?? -1;
    let matches: boolean;
    if (slot >= 0 && memo.calledAt[slot] === call) matches = memo.answer[slot]!;
    else {
      matches = e!.filter!(facts);
      if (slot >= 0) {
        memo.calledAt[slot] = call;
        memo.answer[slot] = matches;
      }
    }
    if (!matches) continue;
    (out ??= []).push(e!.spec!);
  }
  return out ?? NO_MATCHES;
}
