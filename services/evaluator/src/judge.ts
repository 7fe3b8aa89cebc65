import type { DeadLetterReason, Run } from "@runhooks/contracts";
import { attachFacts, matchRun, type RuleBook, type WindowSpec } from "@runhooks/rules";
import { decodeRun, type RunLimits } from "./decode.js";

/** What one run message comes to. */
export type Judgement =
  | { readonly kind: "dead_letter"; readonly reason: DeadLetterReason; readonly error: string }
  | { readonly kind: "not_ended"; readonly runId: string }
  /** `ruleErrors`: the rules whose filter answered "error" for this run (each once). */
  | { readonly kind: "judged"; readonly run: Run; readonly matches: readonly WindowSpec[]; readonly ruleErrors: readonly RuleErrorSample[] };

export interface RuleErrorSample {
  readonly spec: WindowSpec;
  readonly error: string;
}

const NO_ERRORS: readonly RuleErrorSample[] = Object.freeze([]);

/**
 * Decodes a run message and judges it against the rules in force at `time`. Nothing a message holds
 * can make this throw: whatever does (an unexpected failure in decoding or matching) becomes an
 * `evaluation_failed` dead letter, so one message can neither stop the evaluator nor make it refold
 * forever. The inputs are the message and the rule book only, so a replay judges it the same way.
 */
export function judgeRun(value: Buffer | null, limits: RunLimits, book: RuleBook, time: number): Judgement {
  let ruleErrors: RuleErrorSample[] | undefined;
  try {
    const decoded = decodeRun(value, limits);
    if (!decoded.ok) return { kind: "dead_letter", reason: decoded.reason, error: decoded.error };
    const run = decoded.run;
    if (run.end_time == null) return { kind: "not_ended", runId: run.id };
    const matches = matchRun(book, run, time, attachFacts, (spec, error) => (ruleErrors ??= []).push({ spec, error }));
    return { kind: "judged", run, matches, ruleErrors: ruleErrors ?? NO_ERRORS };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    return { kind: "dead_letter", reason: "evaluation_failed", error: `${e.name}: ${e.message}` };
  }
}
