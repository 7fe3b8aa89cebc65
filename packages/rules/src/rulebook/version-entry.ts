import type { ParseResult, RuleVersion } from "@runhooks/contracts";
import {
  budgetExhaustedMessage,
  compileFilter,
  derivedFactsRead,
  type CompiledFilter,
  type FilterVerdict,
  type JsonLogicExpression,
} from "../filter/index.js";
import type { TraceSpec } from "../trace/trace-verdict.js";
import type { WindowSpec } from "../window/index.js";
import { isTraceAware } from "./gate.js";
import { BROAD, versionKeys, type IndexKey, type VersionShape } from "./index-keys.js";
import { RULE_FILTER_FIELDS, resolveRuleFilter, type RuleFilterField } from "./rule-filters.js";

/** A stored filter that does not validate: never compiled, it answers "error" at no cost. */
type InvalidFilter = ((facts: Record<string, unknown>) => FilterVerdict) & { readonly lastSteps: 0 };

const invalidFilter: InvalidFilter = Object.assign((): FilterVerdict => "error", { lastSteps: 0 as const });

/** One of a version's filters, ready to evaluate. */
export interface SlotFilter {
  readonly evaluate: CompiledFilter | InvalidFilter;
  /** Index of the filter's text in the book's `filterSlots`: equal filters share it (-1: none). */
  readonly slot: number;
  /** What a verdict of "error" means for it (told to the tenant through `onError`). */
  readonly errorMessage: string;
}

/** A trace-aware version's trace filters (DESIGN.md §4); each absent when the version has none. */
export interface TraceFilters {
  readonly spec: TraceSpec;
  readonly traceFilter: SlotFilter | undefined;
  readonly treeFilter: SlotFilter | undefined;
}

/**
 * One filter text of one field, as the book keeps it: resolved and validated once, and compiled, its
 * facts read and (for `filter`) its index keys worked out on the first version that needs them. Rules
 * repeat filters, so loading a version is mostly looking these up.
 */
export interface ResolvedFilter {
  readonly result: ParseResult<JsonLogicExpression>;
  /** Its compiled filter, once a version with only valid filters used it. */
  slot: SlotFilter | undefined;
  /** Derived facts it may read (`derivedFactsRead`), once known. */
  reads: number | undefined;
  /** For `filter`: the index keys of a version without a session, by `shapeBits`. */
  keysByShape: Map<number, readonly IndexKey[]> | undefined;
}

/** What the book needs to compile a version: where equal filters share a slot, and the budgets. */
export interface SlotTable {
  readonly filterSlots: Map<string, number>;
  /** Per slot, its compiled filter: versions with equal filters share one (it holds no per-version state). */
  readonly slotFilters: SlotFilter[];
  /**
   * Field and filter text → what `resolveRuleFilter` made of it and what followed from it:
   * validating a filter (its cost bound above all) is most of what compiling one costs.
   */
  readonly resolvedFilters: Map<string, ResolvedFilter>;
  readonly memo: { readonly calledAt: number[]; readonly answer: FilterVerdict[] };
  readonly filterSteps: number;
  readonly traceHorizonMs: number;
}

/** A version's filters compiled, or why they cannot be (then every one answers "error"). */
export interface CompiledVersion {
  readonly spec: WindowSpec;
  readonly filter: SlotFilter;
  readonly trace: TraceFilters | undefined;
  /** Derived facts the version's filters may read (`derivedFactsRead`, bits). */
  readonly reads: number;
  /** Set when a stored filter does not validate: the version matches nothing. */
  readonly invalid: string | undefined;
  /** The index lists the version belongs in (index-keys.ts). */
  readonly keys: readonly IndexKey[];
}

function slotFilter(table: SlotTable, expression: JsonLogicExpression): SlotFilter {
  const text = JSON.stringify(expression);
  const known = table.filterSlots.get(text);
  if (known !== undefined) return table.slotFilters[known]!;
  const slot = table.filterSlots.size;
  table.filterSlots.set(text, slot);
  table.memo.calledAt.push(0);
  table.memo.answer.push(false);
  const evaluate = compileFilter(expression, { maxSteps: table.filterSteps });
  const filter = { evaluate, slot, errorMessage: budgetExhaustedMessage(evaluate.maxSteps) };
  table.slotFilters.push(filter);
  return filter;
}

function resolveCached(table: SlotTable, field: RuleFilterField, value: unknown): ResolvedFilter {
  const text = `${field}\u0000${JSON.stringify(value)}`;
  let resolved = table.resolvedFilters.get(text);
  if (resolved === undefined) {
    resolved = { result: resolveRuleFilter(field, value), slot: undefined, reads: undefined, keysByShape: undefined };
    table.resolvedFilters.set(text, resolved);
  }
  return resolved;
}

/** The compiled filter of a valid resolved filter; filters that resolve to one expression share it. */
function slotOf(table: SlotTable, resolved: ResolvedFilter, expression: JsonLogicExpression): SlotFilter {
  resolved.slot ??= slotFilter(table, expression);
  resolved.reads ??= derivedFactsRead(expression);
  return resolved.slot;
}

const shapeBits = (shape: VersionShape): number =>
  (shape.enabled ? 1 : 0) | (shape.traceAware ? 2 : 0) | (shape.treeFilter ? 4 : 0);

/** `versionKeys`, shared by the versions of one filter and shape that name no session (it is pure). */
function keysOf(
  table: SlotTable,
  filter: ResolvedFilter,
  expression: JsonLogicExpression,
  shape: VersionShape,
): readonly IndexKey[] {
  if (shape.sessionId !== null) return versionKeys(shape, expression, table.filterSteps);
  const byShape = (filter.keysByShape ??= new Map<number, readonly IndexKey[]>());
  let keys = byShape.get(shapeBits(shape));
  if (keys === undefined) {
    keys = versionKeys(shape, expression, table.filterSteps);
    byShape.set(shapeBits(shape), keys);
  }
  return keys;
}

/** The three filter fields of a version, each resolved (undefined: absent; `filter` is never absent). */
function resolveFields(table: SlotTable, rule: RuleVersion): readonly (ResolvedFilter | undefined)[] {
  return RULE_FILTER_FIELDS.map((field) =>
    field === "filter" || rule[field] != null ? resolveCached(table, field, rule[field]) : undefined,
  );
}

/**
 * Compiles a version's filters, each through `resolveRuleFilter`. A filter stored before a limit
 * existed may no longer validate: then none of the version's filters is compiled (none can run
 * unbounded) and each answers "error".
 */
export function compileVersion(table: SlotTable, rule: RuleVersion): CompiledVersion {
  const spec: WindowSpec = {
    ruleId: rule.rule_id,
    ruleVersion: rule.version,
    tenantId: rule.tenant_id,
    seconds: rule.window.seconds,
    maxRuns: rule.window.max_runs,
  };
  const [filter, traceFilter, treeFilter] = resolveFields(table, rule);
  const traceSpec: TraceSpec | undefined = isTraceAware(rule)
    ? {
        window: spec,
        horizonMs: rule.trace_horizon_seconds === undefined ? table.traceHorizonMs : rule.trace_horizon_seconds * 1000,
        needsRoot: rule.trace_filter != null,
        needsTree: rule.tree_filter != null,
      }
    : undefined;
  const main = filter!.result;
  if (!main.ok || traceFilter?.result.ok === false || treeFilter?.result.ok === false) {
    const issues = [filter, traceFilter, treeFilter].flatMap((r) =>
      r === undefined || r.result.ok ? [] : r.result.issues,
    );
    const error = issues.map((i) => `${i.path}: ${i.message}`).join("; ");
    const broken: SlotFilter = {
      evaluate: invalidFilter,
      slot: -1,
      errorMessage: `the rule's filter is not valid, so it matches nothing: ${error}`,
    };
    const trace = traceSpec && {
      spec: traceSpec,
      traceFilter: traceSpec.needsRoot ? broken : undefined,
      treeFilter: traceSpec.needsTree ? broken : undefined,
    };
    return { spec, filter: broken, trace, reads: 0, invalid: error, keys: rule.enabled ? BROAD : [] };
  }
  const compiledOf = (r: ResolvedFilter | undefined): SlotFilter | undefined =>
    r?.result.ok === true ? slotOf(table, r, r.result.value) : undefined;
  const compiled = compiledOf(filter)!;
  const trace = traceSpec && {
    spec: traceSpec,
    traceFilter: compiledOf(traceFilter),
    treeFilter: compiledOf(treeFilter),
  };
  const reads = (filter!.reads ?? 0) | (traceFilter?.reads ?? 0) | (treeFilter?.reads ?? 0);
  const shape: VersionShape = {
    sessionId: rule.session_id,
    enabled: rule.enabled,
    traceAware: traceSpec !== undefined,
    treeFilter: rule.tree_filter != null,
  };
  const keys = keysOf(table, filter!, main.value, shape);
  return { spec, filter: compiled, trace, reads, invalid: undefined, keys };
}
