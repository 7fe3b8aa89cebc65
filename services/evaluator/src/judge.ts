import type { DeadLetterReason } from "@runhooks/contracts";
import { attachFacts, judgeDecodedRun, type RuleBook, type RunJudgement } from "@runhooks/rules";
import { decodeRun, type RunLimits } from "./decode.js";

/** What one run message comes to: a dead letter, or the rules' judgement of the run it holds. */
export type Judgement =
  { readonly kind: "dead_letter"; readonly reason: DeadLetterReason; readonly error: string } | RunJudgement;

/**
 * Decodes a run message and judges it against the rules in force at `time`. Nothing a message holds
 * can make this throw: whatever does (an unexpected failure in decoding or matching) becomes an
 * `evaluation_failed` dead letter, so one message can neither stop the evaluator nor make it refold
 * forever. The inputs are the message and the rule book only, so a replay judges it the same way.
 * `traceOnly`: only the trace-aware rules' verdicts are wanted (a restart's trace prefix).
 */
export function judgeRun(
  value: Buffer | null,
  limits: RunLimits,
  book: RuleBook,
  time: number,
  traceOnly = false,
): Judgement {
  try {
    const decoded = decodeRun(value, limits);
    if (!decoded.ok) return { kind: "dead_letter", reason: decoded.reason, error: decoded.error };
    // The decoded run is this call's own object: the facts are written onto it.
    return judgeDecodedRun(book, decoded.run, time, attachFacts, traceOnly);
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    return { kind: "dead_letter", reason: "evaluation_failed", error: `${e.name}: ${e.message}` };
  }
}
