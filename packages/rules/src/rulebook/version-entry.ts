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
import { BROAD, versionKeys, type IndexKey } from "./index-keys.js";
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

/** What the book needs to compile a version: where equal filters share a slot, and the budgets. */
export interface SlotTable {
  readonly filterSlots: Map<string, number>;
  /** Per slot, its compiled filter: versions with equal filters share one (it holds no per-version state). */
  readonly slotFilters: SlotFilter[];
  /**
   * Field and filter text → what `resolveRuleFilter` made of it: rules repeat filters, and validating
   * one (its cost bound above all) is most of what loading a version costs.
   */
  readonly resolvedFilters: Map<string, ParseResult<JsonLogicExpression>>;
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

function resolveCached(table: SlotTable, field: RuleFilterField, value: unknown): ParseResult<JsonLogicExpression> {
  const text = `${field}\u0000${JSON.stringify(value)}`;
  let result = table.resolvedFilters.get(text);
  if (result === undefined) {
    result = resolveRuleFilter(field, value);
    table.resolvedFilters.set(text, result);
  }
  return result;
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
  const present = RULE_FILTER_FIELDS.filter((field) => field === "filter" || rule[field] != null);
  const resolved = present.map((field) => ({ field, result: resolveCached(table, field, rule[field]) }));
  const issues = resolved.flatMap(({ result }) => (result.ok ? [] : result.issues));
  const traceSpec: TraceSpec | undefined = isTraceAware(rule)
    ? {
        window: spec,
        horizonMs: rule.trace_horizon_seconds === undefined ? table.traceHorizonMs : rule.trace_horizon_seconds * 1000,
        needsRoot: rule.trace_filter != null,
        needsTree: rule.tree_filter != null,
      }
    : undefined;
  if (issues.length > 0) {
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
  const compiled = new Map<RuleFilterField, SlotFilter>();
  let reads = 0;
  for (const { field, result } of resolved) {
    if (!result.ok) continue;
    compiled.set(field, slotFilter(table, result.value));
    reads |= derivedFactsRead(result.value);
  }
  const trace = traceSpec && {
    spec: traceSpec,
    traceFilter: compiled.get("trace_filter"),
    treeFilter: compiled.get("tree_filter"),
  };
  const filter = resolved.find((r) => r.field === "filter")?.result;
  const keys = versionKeys(
    {
      sessionId: rule.session_id,
      enabled: rule.enabled,
      traceAware: traceSpec !== undefined,
      treeFilter: rule.tree_filter != null,
    },
    filter?.ok ? filter.value : undefined,
    table.filterSteps,
  );
  return { spec, filter: compiled.get("filter")!, trace, reads, invalid: undefined, keys };
}
