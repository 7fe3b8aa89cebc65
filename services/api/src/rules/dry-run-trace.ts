import type { Rule, Run } from "@runhooks/contracts";
import {
  DEFAULT_TRACE_HORIZON_SECONDS,
  compileFilter,
  isTraceAware,
  isTraceRoot,
  resolveRuleFilter,
  runFacts,
  traceKeyOf,
  type CompiledFilter,
  type FilterVerdict,
} from "@runhooks/rules";
import { timeOf, type DrySettlement } from "./dry-run-payloads.js";

/**
 * The dry run of a trace-aware rule (DESIGN.md §4): the runs sent are taken as whole traces, read in
 * the order of their end times. The verdict itself is the evaluator's fold's (dry-run-payloads.ts);
 * these checks explain it: the trace's root and its `trace_filter`, the runs satisfying its
 * `tree_filter`, and when and why the trace settled each candidate.
 */

/** A check of the trace part of a rule, as the dry run shows it. */
export interface TraceCheck {
  readonly part: "trace_filter" | "tree_filter" | "trace";
  readonly ok: boolean;
  readonly message: string;
}

/** Filter steps a dry run may still take, and those taken (the dry run's own allowance). */
export interface StepAllowance {
  used: number;
  readonly limits: { readonly maxSteps: number; readonly filterSteps: number };
}

export interface TraceRule {
  readonly horizonSeconds: number;
  readonly traceFilter: CompiledFilter | undefined;
  readonly treeFilter: CompiledFilter | undefined;
}

/** The rule's trace filters compiled (they validated with the rule); undefined for a rule without. */
export function traceRule(rule: Rule, filterSteps: number): TraceRule | undefined {
  if (!isTraceAware(rule)) return undefined;
  const compiled = (field: "trace_filter" | "tree_filter"): CompiledFilter | undefined => {
    if (rule[field] == null) return undefined;
    const resolved = resolveRuleFilter(field, rule[field]);
    if (!resolved.ok) throw new Error(`dryRun: the rule's ${field} must be validated first`);
    return compileFilter(resolved.value, { maxSteps: filterSteps });
  };
  return {
    horizonSeconds: rule.trace_horizon_seconds ?? DEFAULT_TRACE_HORIZON_SECONDS,
    traceFilter: compiled("trace_filter"),
    treeFilter: compiled("tree_filter"),
  };
}

/** A filter's verdict within the allowance; undefined once it ran out (not evaluated). */
function verdict(f: CompiledFilter, run: Run, allowance: StepAllowance): FilterVerdict | undefined {
  if (allowance.used >= allowance.limits.maxSteps) return undefined;
  const v = f(runFacts(run));
  allowance.used += Math.min(f.lastSteps, f.maxSteps);
  return v;
}

const named = (run: Run) => `${run.name} (${run.id})`;

/** What a trace's runs say to the rule's trace filters, as far as the allowance went. */
interface TraceFacts {
  readonly traceId: string;
  readonly root: Run | undefined;
  readonly rootPasses: FilterVerdict | undefined;
  readonly treeRuns: Run[];
  readonly complete: boolean;
}

function traceFacts(
  t: TraceRule,
  all: readonly Run[],
  gated: (run: Run) => boolean,
  allowance: StepAllowance,
): TraceFacts {
  // Only the runs the rule's gate lets through tell it about their trace, as in the evaluator.
  const runs = all.filter(gated);
  const inOrder = runs.map((run, i) => ({ run, i, time: timeOf(run) })).sort((a, b) => a.time - b.time || a.i - b.i);
  const root = inOrder.find((r) => r.run.end_time != null && isTraceRoot(r.run))?.run;
  let complete = true;
  let rootPasses: FilterVerdict | undefined;
  if (root !== undefined && t.traceFilter !== undefined) {
    rootPasses = verdict(t.traceFilter, root, allowance);
    complete &&= rootPasses !== undefined;
  }
  const treeRuns: Run[] = [];
  if (t.treeFilter !== undefined) {
    for (const { run } of inOrder) {
      if (run.end_time == null) continue;
      const v = verdict(t.treeFilter, run, allowance);
      complete &&= v !== undefined;
      if (v === true) treeRuns.push(run);
    }
  }
  return { traceId: all[0]!.trace_id ?? all[0]!.id, root, rootPasses, treeRuns, complete };
}

function filterChecks(t: TraceRule, f: TraceFacts): TraceCheck[] {
  const checks: TraceCheck[] = [];
  const partial = f.complete ? "" : " (not every run was evaluated: this dry run took all of its filter steps)";
  if (t.traceFilter !== undefined) {
    const ok = f.rootPasses === true;
    checks.push({
      part: "trace_filter",
      ok,
      message:
        f.root === undefined
          ? `no root of trace ${f.traceId} among the runs sent: trace_filter needs it`
          : `the trace's root ${named(f.root)} ${f.rootPasses === undefined ? "was not evaluated" : ok ? "passes" : f.rootPasses === "error" ? "could not be judged by (error)" : "fails"} trace_filter${partial}`,
    });
  }
  if (t.treeFilter !== undefined) {
    const [first] = f.treeRuns;
    checks.push({
      part: "tree_filter",
      ok: first !== undefined,
      message:
        first === undefined
          ? `no run of trace ${f.traceId} among the runs sent satisfies tree_filter${partial}`
          : `${f.treeRuns.length} run${f.treeRuns.length === 1 ? "" : "s"} of the trace satisf${f.treeRuns.length === 1 ? "ies" : "y"} tree_filter, the first ${named(first)}`,
    });
  }
  return checks;
}

/** The trace check of one candidate: what the fold decided, when, and which filter decided it. */
function decision(
  t: TraceRule,
  runs: readonly Run[],
  index: number,
  s: DrySettlement | undefined,
): { check: TraceCheck; decidedBy: "filter" | "trace_filter" | "tree_filter" } {
  const at = s === undefined || !Number.isFinite(s.at) ? "the end of the runs" : new Date(s.at).toISOString();
  const by = s?.by === undefined ? undefined : runs[s.by];
  switch (s?.how) {
    case "joined": {
      const decidedBy =
        s.by === index
          ? "filter"
          : by !== undefined && isTraceRoot(by) && t.traceFilter
            ? "trace_filter"
            : "tree_filter";
      const when = s.by === index ? "at once: its trace had settled it already" : `when ${named(by!)} was read`;
      return { check: { part: "trace", ok: true, message: `joins the window of ${at}, ${when}` }, decidedBy };
    }
    case "root_failed":
      return {
        check: {
          part: "trace",
          ok: false,
          message: `dropped at ${at}, when its root was read: the root fails trace_filter`,
        },
        decidedBy: "trace_filter",
      };
    case "no_tree":
      return {
        check: {
          part: "trace",
          ok: false,
          message: `dropped at ${at}, when its root was read: no run satisfying tree_filter had been read by then`,
        },
        decidedBy: "tree_filter",
      };
    default:
      return {
        check: {
          part: "trace",
          ok: false,
          message: `dropped: its trace did not settle it within the horizon of ${t.horizonSeconds} s (${t.traceFilter ? "its root was not read in time" : "no run satisfying tree_filter nor its root was read in time"})`,
        },
        decidedBy: t.traceFilter ? "trace_filter" : "tree_filter",
      };
  }
}

/**
 * The trace checks of each candidate (by index: a run that passed the gates and `filter`), and which of
 * the three filters decided it. Each trace's facts are evaluated once, within the dry run's allowance.
 */
export function traceChecks(
  t: TraceRule,
  runs: readonly Run[],
  candidates: readonly number[],
  settled: ReadonlyMap<number, DrySettlement>,
  gated: (run: Run) => boolean,
  allowance: StepAllowance,
): Map<number, { checks: TraceCheck[]; decidedBy: "filter" | "trace_filter" | "tree_filter" }> {
  const byTrace = new Map<string, Run[]>();
  for (const run of runs) {
    const key = traceKeyOf(run);
    const same = byTrace.get(key);
    if (same === undefined) byTrace.set(key, [run]);
    else same.push(run);
  }
  const facts = new Map<string, TraceFacts>();
  const out = new Map<number, { checks: TraceCheck[]; decidedBy: "filter" | "trace_filter" | "tree_filter" }>();
  for (const index of candidates) {
    const run = runs[index]!;
    const key = traceKeyOf(run);
    let f = facts.get(key);
    if (f === undefined) facts.set(key, (f = traceFacts(t, byTrace.get(key)!, gated, allowance)));
    const { check, decidedBy } = decision(t, runs, index, settled.get(index));
    out.set(index, { checks: [...filterChecks(t, f), check], decidedBy });
  }
  return out;
}
