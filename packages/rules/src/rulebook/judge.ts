import type { Run } from "@runhooks/contracts";
import { runFacts } from "../filter/index.js";
import { withSessionId } from "../project/index.js";
import { traceKeyOf } from "../trace/trace-run.js";
import type { TraceInput, TraceVerdict } from "../trace/trace-verdict.js";
import type { WindowSpec } from "../window/index.js";
import { matchRun, type RuleBook } from "./rule-book.js";

/**
 * What the rules make of one run, in the evaluator's order: a run that has not ended waits (it is
 * judged when its ended copy arrives); an ended one is matched (`matchRun`). `matches`: the windows
 * it joins at once; `trace`: what the trace-aware rules said of it, for the trace fold (undefined when
 * they said nothing). `ruleErrors`: the rules whose filters answered "error" for it, each once. The
 * dry run judges with this too, so the two cannot differ.
 */
export type RunJudgement =
  | { readonly kind: "not_ended"; readonly runId: string }
  | {
      readonly kind: "not_matched";
      readonly run: Run;
      readonly ruleErrors: readonly RuleErrorSample[];
      readonly trace: TraceInput | undefined;
    }
  | {
      readonly kind: "matched";
      readonly run: Run;
      readonly matches: readonly WindowSpec[];
      readonly ruleErrors: readonly RuleErrorSample[];
      readonly trace: TraceInput | undefined;
    };

export interface RuleErrorSample {
  readonly spec: WindowSpec;
  readonly error: string;
}

const NO_ERRORS: readonly RuleErrorSample[] = Object.freeze([]);

/**
 * Judges a decoded run against the rules in force at `time`; `factsOf` as in `matchRun`. A run without
 * `session_id` is judged with the one its `session_name` resolves to (`withSessionId`), so rules scoped
 * to a project, and filters reading `session_id`, see the runs producers wrote to Kafka with the
 * project's name only; the judgement's `run` is that copy. `traceOnly`: only the trace-aware rules'
 * verdicts are wanted (`matchRun`); matches and rule errors are then partial.
 */
export function judgeDecodedRun(
  book: RuleBook,
  run: Run,
  time: number,
  factsOf: (run: Run, reads: number) => Record<string, unknown> = runFacts,
  traceOnly = false,
): RunJudgement {
  if (run.end_time == null) return { kind: "not_ended", runId: run.id };
  // Only a tenant with rules needs it (the id is derived by hashing).
  const judged = run.session_id == null && book.byTenant.has(run.tenant_id) ? withSessionId(run) : run;
  let ruleErrors: RuleErrorSample[] | undefined;
  let verdicts: TraceVerdict[] | undefined;
  const matches = matchRun(
    book,
    judged,
    time,
    factsOf,
    (spec, error) => (ruleErrors ??= []).push({ spec, error }),
    (v) => (verdicts ??= []).push(v),
    traceOnly,
  );
  const trace = verdicts === undefined ? undefined : { key: traceKeyOf(run), verdicts };
  if (matches.length === 0) return { kind: "not_matched", run: judged, ruleErrors: ruleErrors ?? NO_ERRORS, trace };
  return { kind: "matched", run: judged, matches, ruleErrors: ruleErrors ?? NO_ERRORS, trace };
}
