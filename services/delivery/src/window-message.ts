import { isAscii } from "node:buffer";
import { MatchWindow, describeIssues, isGuidString, toFieldIssues, type FieldIssue } from "@runhooks/contracts";
import { memberSpan } from "./json-span.js";

/**
 * The MatchWindow contract without its runs. Each run is checked only for what delivery relies on (an
 * object with an id): runs were validated against the Run contract when they entered (the evaluator
 * dead-letters the rest), and delivery passes them through byte for byte. Validating every run field
 * again — or even copying each run through a schema — would cost more than everything else delivery
 * does with a window.
 */
const WindowHead = MatchWindow.omit({ runs: true });

/** What is wrong with a window's runs, if anything (the contract's wording and field paths). */
function runsIssue(runs: unknown): FieldIssue | undefined {
  if (!Array.isArray(runs)) return { path: "runs", message: "must be an array of runs" };
  if (runs.length === 0) return { path: "runs", message: "a window holds at least one run" };
  for (let i = 0; i < runs.length; i++) {
    const run: unknown = runs[i];
    if (typeof run !== "object" || run === null || Array.isArray(run)) return { path: `runs.${i}`, message: "must be a run object" };
    const id = (run as { id?: unknown }).id;
    // `Id`'s pattern by hand (a regex per run otherwise): the run check's differential test holds them equal.
    if (typeof id !== "string" || !isGuidString(id)) return { path: `runs.${i}.id`, message: "must be a UUID (8-4-4-4-12 hex digits)" };
  }
  return undefined;
}

export type DecodedWindow =
  | {
      readonly ok: true;
      readonly window: Omit<MatchWindow, "runs">;
      readonly runCount: number;
      /** The webhook body, exactly the seed's shape: `{"rule_id","start_time","end_time","runs"}`, as UTF-8. */
      readonly payload: Buffer;
    }
  | { readonly ok: false; readonly error: string };

/**
 * A `runhooks.windows` message, checked against the MatchWindow contract, and the body its deliveries
 * POST: serialised once, with the runs spliced in as the exact JSON the message carried.
 */
export function decodeWindow(value: Buffer | null): DecodedWindow {
  if (value === null || value.length === 0) return { ok: false, error: "empty message value" };
  const text = value.toString("utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `invalid JSON: ${(error as Error).message}` };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { ok: false, error: "not a JSON object" };
  const { runs, ...members } = parsed as Record<string, unknown>;
  const result = WindowHead.safeParse(members);
  const issues = result.success ? [] : toFieldIssues(result.error);
  const runIssue = runsIssue(runs);
  if (runIssue) issues.push(runIssue);
  if (!result.success || issues.length > 0) return { ok: false, error: describeIssues(issues) };
  const window = result.data;
  const runList = runs as unknown[];
  const span = memberSpan(text, "runs");
  const head = Buffer.from(`${JSON.stringify({ rule_id: window.rule_id, start_time: window.start_time, end_time: window.end_time }).slice(0, -1)},"runs":`);
  // ASCII text (the usual case: JSON escapes what is not) has its characters where its bytes are, so the
  // runs are copied from the message's bytes once; otherwise they are encoded from the text.
  const runsBytes =
    span === undefined ? Buffer.from(JSON.stringify(runList)) : isAscii(value) ? value.subarray(span.start, span.end) : Buffer.from(text.slice(span.start, span.end));
  const payload = Buffer.allocUnsafe(head.length + runsBytes.length + 1);
  head.copy(payload, 0);
  runsBytes.copy(payload, head.length);
  payload[payload.length - 1] = 0x7d; // }
  return { ok: true, window, runCount: runList.length, payload };
}
