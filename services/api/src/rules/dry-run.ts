import { redactUrl, type Rule, type Run, type WebhookPayload } from "@runhooks/contracts";
import {
  compileFilter,
  explainFilter,
  runFacts,
  samplePoint,
  sampled,
  validateFilter,
  type CompiledFilter,
  type FilterPartExplanation,
  type JsonLogicExpression,
} from "@runhooks/rules";

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
  /** Every check, passing or not, in the order the evaluator applies them. */
  readonly checks: readonly RuleCheck[];
  /** Why not, one line per failing part (empty when matched). */
  readonly reasons: readonly string[];
}

export interface DryRunResult {
  readonly rule_id: string;
  readonly matched: number;
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

function checkRun(rule: Rule, run: Run, filter: CompiledFilter, expression: JsonLogicExpression): RunVerdict {
  const checks: RuleCheck[] = [];
  const ended = run.end_time !== null && run.end_time !== undefined;
  checks.push({
    part: "ended",
    ok: ended,
    message: ended ? "the run has ended" : "the run has not ended (no end_time): runs are judged once they end",
  });
  checks.push({
    part: "enabled",
    ok: rule.enabled,
    message: rule.enabled ? "the rule is enabled" : "the rule is disabled: it matches nothing",
  });
  const sameTenant = run.tenant_id === rule.tenant_id;
  checks.push({
    part: "tenant",
    ok: sameTenant,
    message: sameTenant ? "same tenant" : `the run's tenant_id ${run.tenant_id} is not the rule's (${rule.tenant_id})`,
  });
  if (rule.session_id !== null && rule.session_id !== undefined) {
    const sameSession = run.session_id === rule.session_id;
    checks.push({
      part: "session",
      ok: sameSession,
      message: sameSession
        ? "same session (project)"
        : `the run's session_id ${run.session_id ?? "(none)"} is not the rule's (${rule.session_id})`,
    });
  }
  const facts = runFacts(run);
  const explanation = explainFilter(expression, facts);
  const filterOk = filter(facts) === true;
  checks.push({
    part: "filter",
    ok: filterOk,
    message: filterOk ? "the filter matches" : failingParts(explanation.root).map(describePart).join("; "),
    explanation: explanation.root,
  });
  const isSampled = sampled(rule.id, run.id, rule.sampling_rate);
  checks.push({
    part: "sampling",
    ok: isSampled,
    message: isSampled
      ? `sampled in (sampling_rate ${rule.sampling_rate})`
      : `sampled out: this run's sample point ${samplePoint(rule.id, run.id).toFixed(4)} is not below sampling_rate ${rule.sampling_rate}`,
  });
  const failed = checks.filter((c) => !c.ok);
  return { run_id: run.id, matched: failed.length === 0, checks, reasons: failed.map((c) => `${c.part}: ${c.message}`) };
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

/** Which runs a rule matches and why not, and the exact webhook payloads it would send. */
export function dryRun(rule: Rule, runs: readonly Run[]): DryRunResult {
  const validated = validateFilter(rule.filter);
  if (!validated.ok) throw new Error("dryRun: the rule's filter must be validated first");
  const filter = compileFilter(validated.value);
  const results = runs.map((run) => checkRun(rule, run, filter, validated.value));
  const matchedRuns = runs.filter((_, i) => results[i]!.matched);
  return {
    rule_id: rule.id,
    matched: matchedRuns.length,
    results,
    payloads: windowPayloads(rule, matchedRuns),
    webhooks: rule.webhooks.map((w) => redactUrl(w.url)),
    windowing:
      `matched runs grouped into aligned ${rule.window.seconds}s windows by end_time (start_time if none), ` +
      `at most ${rule.window.max_runs} runs per payload; live windows use the broker's append time`,
  };
}
