import { Run, describeIssues, runKey, toFieldIssues } from "@runhooks/contracts";
import type { OutgoingRun } from "./producer.js";

export type CheckedLine =
  | { readonly ok: true; readonly run: OutgoingRun }
  | { readonly ok: false; readonly line: number; readonly reason: string }
  | { readonly ok: "blank" };

/**
 * One line of a JSON Lines file of runs, checked as the evaluator would check it (the Run contract).
 * A bad line is refused here with its line number, rather than produced for the evaluator to
 * dead-letter: the file is the user's to fix, and a refused line costs nothing downstream.
 */
export function checkRunLine(text: string, line: number): CheckedLine {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: "blank" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (error) {
    return { ok: false, line, reason: `not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  const run = Run.safeParse(parsed);
  if (!run.success) return { ok: false, line, reason: `not a run: ${describeIssues(toFieldIssues(run.error))}` };
  return { ok: true, run: { id: run.data.id, key: runKey(run.data), json: trimmed } };
}
