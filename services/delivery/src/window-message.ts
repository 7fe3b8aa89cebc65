import { Id, MatchWindow, describeIssues, toFieldIssues } from "@runhooks/contracts";
import { z } from "zod";
import { memberSpan } from "./json-span.js";

/**
 * The MatchWindow contract, with each run checked only for what delivery relies on (an object with an
 * id): runs were validated against the Run contract when they entered (the evaluator dead-letters the
 * rest), and delivery passes them through byte for byte. Validating every run field again would cost
 * more than everything else delivery does with a window.
 */
const WindowForDelivery = MatchWindow.omit({ runs: true }).extend({
  runs: z.array(z.looseObject({ id: Id })).min(1, "a window holds at least one run"),
});

export type DecodedWindow =
  | {
      readonly ok: true;
      readonly window: Omit<MatchWindow, "runs">;
      readonly runCount: number;
      /** The webhook body, exactly the seed's shape: `{"rule_id","start_time","end_time","runs"}`. */
      readonly payload: string;
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
  const result = WindowForDelivery.safeParse(parsed);
  if (!result.success) return { ok: false, error: describeIssues(toFieldIssues(result.error)) };
  const { runs, ...window } = result.data;
  const span = memberSpan(text, "runs");
  const runsJson = span === undefined ? JSON.stringify(runs) : text.slice(span.start, span.end);
  const head = JSON.stringify({ rule_id: window.rule_id, start_time: window.start_time, end_time: window.end_time });
  return { ok: true, window, runCount: runs.length, payload: `${head.slice(0, -1)},"runs":${runsJson}}` };
}
