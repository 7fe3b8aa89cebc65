import { redactUrl, type Rule, type Run, type RuleVersion, type WebhookPayload } from "@runhooks/contracts";
import { toRuleVersion } from "@runhooks/db";
import {
  DEFAULT_FILTER_STEPS,
  applyRuleVersion,
  budgetExhaustedMessage,
  compileFilter,
  createRuleBook,
  explainFilter,
  judgeDecodedRun,
  ruleGate,
  runFacts,
  sampleIdOf,
  samplePoint,
  type CompiledFilter,
  type FilterPartExplanation,
  type FilterVerdict,
  type JsonLogicExpression,
  type RuleBook,
  type RuleGate,
  type TraceInput,
  type WindowSpec,
  resolveFilter,
  withSessionId,
} from "@runhooks/rules";
import { foldDryRun, type PayloadChunk } from "./dry-run-payloads.js";
import { traceChecks, traceRule } from "./dry-run-trace.js";

/** What one dry run may cost, in filter steps (never in time, so the same request answers the same). */
export interface DryRunLimits {
  /** Steps per filter evaluation: the evaluator's budget (`DEFAULT_FILTER_STEPS`). */
  readonly filterSteps?: number;
  /**
   * Steps for the whole dry run, every run's verdict and explanation together; runs past it are
   * answered "error" without being evaluated. Each run may overshoot it by at most its own cost
   * (5 × `filterSteps`: the verdict and an explanation). The evaluator's judgement of a run evaluates
   * the filter once more, at the verdict's cost, which is not counted again.
   */
  readonly maxSteps: number;
  /** Named in the answer when `maxSteps` runs out: the setting that raises it. */
  readonly maxStepsSetting?: string;
}

export const DEFAULT_DRY_RUN_STEPS = 2_000_000;

/** One part of a rule and what it said about a run. */
export interface RuleCheck {
  readonly part:
    | "ended"
    | "enabled"
    | "tenant"
    | "session"
    | "filter"
    | "sampling"
    /** A trace-aware rule's (DESIGN.md §4): its trace's root, its tree, and what its trace decided. */
    | "trace_filter"
    | "tree_filter"
    | "trace";
  readonly ok: boolean;
  readonly message: string;
  /** The filter, part by part (`filter` check only). */
  readonly explanation?: FilterPartExplanation;
}

export interface RunVerdict {
  readonly run_id: string;
  readonly matched: boolean;
  /**
   * Set when the evaluator would answer "error" for this run: the filter ran out of its budget (the
   * rule neither matches nor fails the run), or this dry run ran out of its own.
   */
  readonly error?: string;
  /** Every check, passing or not, in the order the evaluator applies them. */
  readonly checks: readonly RuleCheck[];
  /**
   * The check that decided the run: the first failing one, or for a match the filter whose fact came
   * last (`trace_filter` when its trace's root was read, `tree_filter` when a run satisfying it was,
   * `filter` when the run itself was: a plain rule's match, or a trace that had settled it already).
   */
  readonly decided_by: RuleCheck["part"];
  /** Why not, one line per failing part (empty when matched). */
  readonly reasons: readonly string[];
}

export type { PayloadChunk } from "./dry-run-payloads.js";

export interface DryRunResult {
  readonly rule_id: string;
  readonly matched: number;
  /** Runs whose verdict is "error" (see `RunVerdict.error`). */
  readonly errors: number;
  /** Filter steps the dry run took (verdicts and explanations). */
  readonly steps: number;
  readonly results: readonly RunVerdict[];
  /** Exactly the bodies that would be POSTed, each to every webhook below. */
  readonly payloads: readonly WebhookPayload[];
  /** One per payload, in the same order: which chunk of its window it is. */
  readonly chunks: readonly PayloadChunk[];
  readonly webhooks: readonly string[];
  readonly windowing: string;
}

/** Leaves of a false filter that made it false: into `and`/`or`, down to the parts that failed. */
function failingParts(part: FilterPartExplanation): FilterPartExplanation[] {
  if (part.result) return [];
  const op =
    typeof part.expression === "object" && part.expression !== null ? Object.keys(part.expression)[0] : undefined;
  // A LangSmith call is shown whole, not the JSON-logic it became (`lt` on a number is an `and`).
  const written = part.source !== undefined && !(part.parts ?? []).some((p) => p.source !== undefined);
  if (part.parts && (op === "and" || op === "or") && !written) {
    const failing = part.parts.flatMap(failingParts);
    if (failing.length > 0) return failing;
  }
  return [part];
}

/** The run values a part read: its own, or (a written call that became several parts) its parts'. */
function varsOf(part: FilterPartExplanation): Readonly<Record<string, unknown>> {
  if (part.source === undefined || part.vars !== undefined || part.parts === undefined) return part.vars ?? {};
  return Object.assign({}, ...part.parts.map(varsOf)) as Record<string, unknown>;
}

function describePart(part: FilterPartExplanation): string {
  const vars = Object.entries(varsOf(part))
    .map(([name, value]) => `${name} = ${value === undefined ? "(absent)" : JSON.stringify(value)}`)
    .join(", ");
  const why = part.error === undefined ? "" : ` (error: ${part.error})`;
  // A part of a LangSmith string is named as it was written.
  const what = part.source ?? `${part.path} is false: ${JSON.stringify(part.expression)}`;
  return `${part.source === undefined ? what : `${what} is false`}${vars === "" ? "" : ` with ${vars}`}${why}`;
}

/** Filter steps still allowed in this dry run, and those taken. */
interface Allowance {
  readonly limits: Required<DryRunLimits>;
  used: number;
}

const GATE_CHECKS: readonly { part: RuleCheck["part"]; gate: RuleGate }[] = [
  { part: "enabled", gate: "disabled" },
  { part: "tenant", gate: "other_tenant" },
  { part: "session", gate: "other_session" },
  { part: "sampling", gate: "sampled_out" },
];

/** Each check before the filter on its own (a dry run shows every failing one, not only the first). */
function gateChecks(rule: Rule, version: RuleVersion, run: Run): RuleCheck[] {
  const fails = (gate: RuleGate): boolean => {
    // The same gate as the evaluator's, with the other checks passed, so each is judged alone.
    const alone = {
      ...version,
      enabled: gate === "disabled" ? version.enabled : true,
      tenant_id: gate === "other_tenant" ? version.tenant_id : run.tenant_id,
      session_id: gate === "other_session" ? version.session_id : null,
      sampling_rate: gate === "sampled_out" ? version.sampling_rate : 1,
    };
    return ruleGate(alone, run) === gate;
  };
  const checks: RuleCheck[] = [];
  for (const { part, gate } of GATE_CHECKS) {
    if (part === "session" && version.session_id === null) continue;
    const ok = !fails(gate);
    checks.push({ part, ok, message: gateMessage(part, ok, rule, run) });
  }
  return checks;
}

function gateMessage(part: RuleCheck["part"], ok: boolean, rule: Rule, run: Run): string {
  switch (part) {
    case "enabled":
      return ok ? "the rule is enabled" : "the rule is disabled: it matches nothing";
    case "tenant":
      return ok ? "same tenant" : `the run's tenant_id ${run.tenant_id} is not the rule's (${rule.tenant_id})`;
    case "session":
      return ok
        ? "same session (project)"
        : `the run's session_id ${run.session_id ?? "(none)"} is not the rule's (${rule.session_id ?? "(none)"})`;
    default:
      return ok
        ? `sampled in (sampling_rate ${rule.sampling_rate})`
        : `sampled out: this ${sampleIdOf(rule, run) === run.id ? "run" : "trace"}'s sample point ${samplePoint(rule.id, sampleIdOf(rule, run)).toFixed(4)} is not below sampling_rate ${rule.sampling_rate}`;
  }
}

/**
 * What the dry run holds for the whole request: the rule as the evaluator would read it (the one
 * version of a rule book, in force at the time every run is judged at), its filter compiled once for
 * the explanations, and the steps used so far.
 */
interface DryRunContext {
  readonly rule: Rule;
  readonly version: RuleVersion;
  readonly book: RuleBook;
  readonly filter: CompiledFilter;
  readonly expression: JsonLogicExpression;
  /** Where the filter is a LangSmith string: the text of each part. */
  readonly sources: Readonly<Record<string, string>> | undefined;
  readonly allowance: Allowance;
}

/** A dry run's runs have no log time: the rule's one version is in force at the time they are judged at. */
const JUDGED_AT = 0;

/** A run's verdict, the windows it joins at once, and what trace-aware rules said of it. */
interface Checked {
  readonly verdict: RunVerdict;
  readonly matches: readonly WindowSpec[];
  readonly trace?: TraceInput | undefined;
}

function checkRun(c: DryRunContext, given: Run): Checked {
  const { rule, version, allowance } = c;
  // Checked as the evaluator judges it: its session_id resolved from session_name when it has none.
  const run = withSessionId(given);
  const ended = run.end_time !== null && run.end_time !== undefined;
  const checks: RuleCheck[] = [
    {
      part: "ended",
      ok: ended,
      message: ended ? "the run has ended" : "the run has not ended (no end_time): runs are judged once they end",
    },
    ...gateChecks(rule, version, run),
  ];
  const { limits } = allowance;
  if (allowance.used >= limits.maxSteps) {
    const filterCheck: RuleCheck = {
      part: "filter",
      ok: false,
      message: `not evaluated: this dry run took all of its ${limits.maxSteps.toLocaleString("en-US")} filter steps (${limits.maxStepsSetting}); send fewer runs`,
    };
    // Nothing is evaluated: "error" for a run the evaluator would have asked the filter about.
    const asked = checks.every((check) => check.ok);
    return { verdict: runVerdict(run, [...checks, filterCheck], asked ? filterCheck.message : undefined), matches: [] };
  }
  const facts = runFacts(run);
  const verdict: FilterVerdict = c.filter(facts);
  allowance.used += Math.min(c.filter.lastSteps, c.filter.maxSteps);
  const explanation = explainFilter(c.expression, facts, {
    maxSteps: limits.filterSteps,
    ...(c.sources === undefined ? {} : { sources: c.sources }),
  });
  allowance.used += explanation.steps;
  const message =
    verdict === true
      ? "the filter matches"
      : verdict === "error"
        ? `error: ${budgetExhaustedMessage(limits.filterSteps)}`
        : failingParts(explanation.root).map(describePart).join("; ");
  checks.push({ part: "filter", ok: verdict === true, message, explanation: explanation.root });
  // The verdict is the evaluator's own judgement (it evaluates the filter again, at the cost counted
  // above); the checks explain it.
  const judged = judgeDecodedRun(c.book, run, JUDGED_AT, () => facts);
  if (judged.kind === "matched") return { verdict: runVerdict(run, checks, undefined, true), matches: judged.matches };
  const ruleError = judged.kind === "not_matched" && judged.ruleErrors.length > 0;
  const trace = judged.kind === "not_matched" ? judged.trace : undefined;
  return { verdict: runVerdict(run, checks, ruleError ? message : undefined), matches: [], trace };
}

function runVerdict(
  run: Run,
  checks: readonly RuleCheck[],
  error: string | undefined,
  matched = false,
  decidedBy?: RuleCheck["part"],
): RunVerdict {
  return {
    run_id: run.id,
    matched,
    ...(error === undefined ? {} : { error }),
    checks,
    reasons: checks.filter((c) => !c.ok).map((c) => `${c.part}: ${c.message}`),
    decided_by: decidedBy ?? (matched ? "filter" : (checks.find((c) => !c.ok)?.part ?? "filter")),
  };
}

/**
 * Which runs a rule matches and why not, and the exact webhook payloads it would send, decided by the
 * evaluator's own code: its judgement (`judgeDecodedRun`: ended, then `ruleGate`'s enabled, tenant,
 * session and sampling, then the filter under the evaluator's budget), its fold (`streamStep`: the
 * trace fold of a trace-aware rule, then the window fold) and the assembler's merge (`mergeParts`,
 * `chunkWindow`). Every check is shown, passing or not; a trace-aware rule's runs are taken as whole
 * traces (dry-run-trace.ts).
 */
export function dryRun(rule: Rule, runs: readonly Run[], limits: Partial<DryRunLimits> = {}): DryRunResult {
  const resolved = resolveFilter(rule.filter);
  if (!resolved.ok) throw new Error("dryRun: the rule's filter must be validated first");
  const allowance: Allowance = {
    limits: {
      filterSteps: limits.filterSteps ?? DEFAULT_FILTER_STEPS,
      maxSteps: limits.maxSteps ?? DEFAULT_DRY_RUN_STEPS,
      maxStepsSetting: limits.maxStepsSetting ?? "the dry run's step limit",
    },
    used: 0,
  };
  const version = toRuleVersion(rule, 1);
  const book = createRuleBook({ filterSteps: allowance.limits.filterSteps });
  applyRuleVersion(book, { ruleId: rule.id, rule: version, effectiveFrom: JUDGED_AT });
  const filter = compileFilter(resolved.tree, { maxSteps: allowance.limits.filterSteps });
  const context: DryRunContext = {
    rule,
    version,
    book,
    filter,
    expression: resolved.tree,
    sources: resolved.sources,
    allowance,
  };
  const checked = runs.map((run) => checkRun(context, run));
  const { settled, ...payloads } = foldDryRun(runs.map((run, i) => ({ run, ...checked[i]! })));
  const traced = traceRule(rule, allowance.limits.filterSteps);
  const results = checked.map((c) => c.verdict);
  if (traced !== undefined) {
    const candidates = checked.flatMap((c, i) => (c.trace?.verdicts.some((v) => v.candidate) ? [i] : []));
    const gated = (run: Run) => ruleGate(version, run) === undefined;
    for (const [i, t] of traceChecks(traced, runs, candidates, settled, gated, allowance)) {
      const joined = settled.get(i)?.how === "joined";
      results[i] = runVerdict(runs[i]!, [...results[i]!.checks, ...t.checks], undefined, joined, t.decidedBy);
    }
  }
  return {
    rule_id: rule.id,
    matched: results.filter((r) => r.matched).length,
    errors: results.filter((r) => r.error !== undefined).length,
    steps: allowance.used,
    results,
    ...payloads,
    webhooks: rule.webhooks.map((w) => redactUrl(w.url)),
    windowing:
      `matched runs grouped into aligned ${rule.window.seconds}s windows by end_time (start_time if none), ` +
      `one payload per window, or chunks of ${rule.window.max_runs} runs (the last smaller) when it holds more; ` +
      (traced === undefined
        ? ""
        : `a run waits for its trace and joins the window of the moment its trace settles it, ` +
          `at most ${traced.horizonSeconds} s${rule.trace_horizon_seconds === undefined ? " (the evaluator's default horizon unless it is configured otherwise)" : ""}; `) +
      `live windows use the broker's append time`,
  };
}
