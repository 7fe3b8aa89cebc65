import { redactUrl, type Rule, type Run, type WebhookPayload } from "@runhooks/contracts";
import {
  DEFAULT_FILTER_STEPS,
  budgetExhaustedMessage,
  compileFilter,
  explainFilter,
  ruleGate,
  runFacts,
  samplePoint,
  type CompiledFilter,
  type FilterPartExplanation,
  type FilterVerdict,
  type JsonLogicExpression,
  type RuleGate,
  validateFilter,
} from "@runhooks/rules";

/** What one dry run may cost, in filter steps (never in time, so the same request answers the same). */
export interface DryRunLimits {
  /** Steps per filter evaluation: the evaluator's budget (`DEFAULT_FILTER_STEPS`). */
  readonly filterSteps?: number;
  /**
   * Steps for the whole dry run, every run's verdict and explanation together; runs past it are
   * answered "error" without being evaluated. Each run may overshoot it by at most its own cost
   * (5 × `filterSteps`: the verdict and an explanation).
   */
  readonly maxSteps: number;
  /** Named in the answer when `maxSteps` runs out: the setting that raises it. */
  readonly maxStepsSetting?: string;
}

export const DEFAULT_DRY_RUN_STEPS = 2_000_000;

/** One part of a rule and what it said about a run. */
export interface RuleCheck {
  readonly part: "ended" | "enabled" | "tenant" | "session" | "filter" | "sampling";
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
  /** Why not, one line per failing part (empty when matched). */
  readonly reasons: readonly string[];
}

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
  readonly webhooks: readonly string[];
  readonly windowing: string;
}

/** Leaves of a false filter that made it false: into `and`/`or`, down to the parts that failed. */
function failingParts(part: FilterPartExplanation): FilterPartExplanation[] {
  if (part.result) return [];
  const op = typeof part.expression === "object" && part.expression !== null ? Object.keys(part.expression)[0] : undefined;
  if (part.parts && (op === "and" || op === "or")) {
    const failing = part.parts.flatMap(failingParts);
    if (failing.length > 0) return failing;
  }
  return [part];
}

function describePart(part: FilterPartExplanation): string {
  const vars = Object.entries(part.vars ?? {})
    .map(([name, value]) => `${name} = ${value === undefined ? "(absent)" : JSON.stringify(value)}`)
    .join(", ");
  const why = part.error === undefined ? "" : ` (error: ${part.error})`;
  return `${part.path} is false: ${JSON.stringify(part.expression)}${vars === "" ? "" : ` with ${vars}`}${why}`;
}

/** No offset means UTC (LangSmith's convention), never local time. */
function timeOf(run: Run): number {
  const text = run.end_time ?? run.start_time;
  const withOffset = /([zZ]|[+-]\d{2}:\d{2})$/.test(text) ? text : `${text}Z`;
  return Date.parse(withOffset);
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
function gateChecks(rule: Rule, run: Run): RuleCheck[] {
  const version = { rule_id: rule.id, tenant_id: rule.tenant_id, session_id: rule.session_id ?? null, enabled: rule.enabled, sampling_rate: rule.sampling_rate };
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
      return ok ? "same session (project)" : `the run's session_id ${run.session_id ?? "(none)"} is not the rule's (${rule.session_id ?? "(none)"})`;
    default:
      return ok
        ? `sampled in (sampling_rate ${rule.sampling_rate})`
        : `sampled out: this run's sample point ${samplePoint(rule.id, run.id).toFixed(4)} is not below sampling_rate ${rule.sampling_rate}`;
  }
}

function checkRun(rule: Rule, run: Run, filter: CompiledFilter, expression: JsonLogicExpression, allowance: Allowance): RunVerdict {
  const ended = run.end_time !== null && run.end_time !== undefined;
  const checks: RuleCheck[] = [
    {
      part: "ended",
      ok: ended,
      message: ended ? "the run has ended" : "the run has not ended (no end_time): runs are judged once they end",
    },
    ...gateChecks(rule, run),
  ];
  const { limits } = allowance;
  let verdict: FilterVerdict;
  let filterCheck: RuleCheck;
  if (allowance.used >= limits.maxSteps) {
    verdict = "error";
    filterCheck = {
      part: "filter",
      ok: false,
      message: `not evaluated: this dry run took all of its ${limits.maxSteps.toLocaleString("en-US")} filter steps (${limits.maxStepsSetting}); send fewer runs`,
    };
  } else {
    const facts = runFacts(run);
    verdict = filter(facts);
    allowance.used += Math.min(filter.lastSteps, filter.maxSteps);
    const explanation = explainFilter(expression, facts, { maxSteps: limits.filterSteps });
    allowance.used += explanation.steps;
    const message =
      verdict === true
        ? "the filter matches"
        : verdict === "error"
          ? `error: ${budgetExhaustedMessage(limits.filterSteps)}`
          : failingParts(explanation.root).map(describePart).join("; ");
    filterCheck = { part: "filter", ok: verdict === true, message, explanation: explanation.root };
  }
  checks.push(filterCheck);
  const failed = checks.filter((c) => !c.ok);
  // The evaluator judges the filter only when every check before it passed: only then is an error its verdict.
  const judged = failed.every((c) => c.part === "filter");
  return {
    run_id: run.id,
    matched: failed.length === 0,
    ...(judged && verdict === "error" ? { error: filterCheck.message } : {}),
    checks,
    reasons: failed.map((c) => `${c.part}: ${c.message}`),
  };
}

/**
 * Windows the matched runs as the evaluator would: aligned windows of `window.seconds`, chunks of at
 * most `window.max_runs` runs. The live evaluator uses each run's broker append time; a dry run has
 * none, so it uses the run's end_time (its start_time if it has none).
 */
function windowPayloads(rule: Rule, runs: readonly Run[]): WebhookPayload[] {
  const width = rule.window.seconds * 1000;
  const byWindow = new Map<number, { run: Run; time: number; index: number }[]>();
  runs.forEach((run, index) => {
    const time = timeOf(run);
    const start = Math.floor(time / width) * width;
    byWindow.set(start, [...(byWindow.get(start) ?? []), { run, time, index }]);
  });
  const payloads: WebhookPayload[] = [];
  for (const start of [...byWindow.keys()].sort((a, b) => a - b)) {
    const members = byWindow.get(start)!.sort((a, b) => a.time - b.time || a.index - b.index);
    for (let i = 0; i < members.length; i += rule.window.max_runs) {
      payloads.push({
        rule_id: rule.id,
        start_time: new Date(start).toISOString(),
        end_time: new Date(start + width).toISOString(),
        runs: members.slice(i, i + rule.window.max_runs).map((m) => m.run),
      });
    }
  }
  return payloads;
}

/**
 * Which runs a rule matches and why not, and the exact webhook payloads it would send. The checks are
 * the evaluator's, in its order (`ruleGate`: enabled, tenant, session, sampling; then the filter, under
 * the evaluator's budget); every check is shown, passing or not.
 */
export function dryRun(rule: Rule, runs: readonly Run[], limits: Partial<DryRunLimits> = {}): DryRunResult {
  const validated = validateFilter(rule.filter);
  if (!validated.ok) throw new Error("dryRun: the rule's filter must be validated first");
  const allowance: Allowance = {
    limits: {
      filterSteps: limits.filterSteps ?? DEFAULT_FILTER_STEPS,
      maxSteps: limits.maxSteps ?? DEFAULT_DRY_RUN_STEPS,
      maxStepsSetting: limits.maxStepsSetting ?? "the dry run's step limit",
    },
    used: 0,
  };
  const filter = compileFilter(validated.value, { maxSteps: allowance.limits.filterSteps });
  const results = runs.map((run) => checkRun(rule, run, filter, validated.value, allowance));
  const matchedRuns = runs.filter((_, i) => results[i]!.matched);
  return {
    rule_id: rule.id,
    matched: matchedRuns.length,
    errors: results.filter((r) => r.error !== undefined).length,
    steps: allowance.used,
    results,
    payloads: windowPayloads(rule, matchedRuns),
    webhooks: rule.webhooks.map((w) => redactUrl(w.url)),
    windowing:
      `matched runs grouped into aligned ${rule.window.seconds}s windows by end_time (start_time if none), ` +
      `at most ${rule.window.max_runs} runs per payload; live windows use the broker's append time`,
  };
}
