import { isAscii } from "node:buffer";
import {
  RunsWatermark,
  WindowPartHead,
  describeIssues,
  isGuidString,
  toFieldIssues,
  type FieldIssue,
} from "@runhooks/contracts";
import type { AssemblePart, PartRun } from "@runhooks/rules";
import { elementSpans, memberSpan } from "./json-span.js";

/**
 * The messages of `runhooks.windows` as the assembler takes them (DESIGN.md §4): a window part, checked
 * against the WindowPart contract, and a runs partition's watermark.
 *
 * A part's runs are checked only for what delivery relies on (an object with an id): runs were
 * validated against the Run contract when they entered (the evaluator dead-letters the rest), and
 * delivery passes them through byte for byte. Each run keeps its exact bytes, copied out of the
 * message: the message is a slice of the whole fetch response, which an open window would otherwise
 * keep alive until the window completes.
 */

export type DecodedPart =
  { readonly ok: true; readonly part: AssemblePart } | { readonly ok: false; readonly error: string };
export type DecodedWatermark =
  | { readonly ok: true; readonly runsPartition: number; readonly streamTime: number }
  | { readonly ok: false; readonly error: string };

type Parsed =
  | { readonly ok: true; readonly text: string; readonly members: Record<string, unknown> }
  | { readonly ok: false; readonly error: string };

function parseObject(value: Buffer | null): Parsed {
  if (value === null || value.length === 0) return { ok: false, error: "empty message value" };
  const text = value.toString("utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `invalid JSON: ${(error as Error).message}` };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    return { ok: false, error: "not a JSON object" };
  return { ok: true, text, members: parsed as Record<string, unknown> };
}

/** What is wrong with a part's runs and their times, if anything (the contract's wording and field paths). */
function runsIssue(runs: unknown, times: unknown): FieldIssue | undefined {
  if (!Array.isArray(runs)) return { path: "runs", message: "must be an array of runs" };
  if (runs.length === 0) return { path: "runs", message: "a part holds at least one run" };
  for (let i = 0; i < runs.length; i++) {
    const run: unknown = runs[i];
    if (typeof run !== "object" || run === null || Array.isArray(run))
      return { path: `runs.${i}`, message: "must be a run object" };
    const id = (run as { id?: unknown }).id;
    // `Id`'s pattern by hand (a regex per run otherwise): the run check's differential test holds them equal.
    if (typeof id !== "string" || !isGuidString(id))
      return { path: `runs.${i}.id`, message: "must be a UUID (8-4-4-4-12 hex digits)" };
  }
  if (!Array.isArray(times)) return { path: "run_times", message: "must be an array of stream times" };
  if (times.length !== runs.length) return { path: "run_times", message: "must hold one time per run" };
  for (let i = 0; i < times.length; i++) {
    const t: unknown = times[i];
    if (typeof t !== "number" || !Number.isSafeInteger(t) || t < 0)
      return { path: `run_times.${i}`, message: "must be a stream time in ms" };
  }
  return undefined;
}

/** A `runhooks.windows` part, checked, with each run's exact bytes (owned) and stream time. */
export function decodePart(value: Buffer | null): DecodedPart {
  const parsed = parseObject(value);
  if (!parsed.ok) return parsed;
  const { runs, run_times: times, ...members } = parsed.members;
  const head = WindowPartHead.safeParse(members);
  const issues = head.success ? [] : toFieldIssues(head.error);
  const runIssue = runsIssue(runs, times);
  if (runIssue) issues.push(runIssue);
  if (!head.success || issues.length > 0) return { ok: false, error: describeIssues(issues) };
  const h = head.data;
  const startMs = Date.parse(h.start_time);
  const endMs = Date.parse(h.end_time);
  if (!(endMs > startMs)) return { ok: false, error: "end_time: must be after start_time" };
  const runList = runs as { id: string }[];
  const timeList = times as number[];
  const bytes = runBytes(value!, parsed.text);
  if (bytes.length !== runList.length) return { ok: false, error: "runs: could not be located in the message" };
  const partRuns: PartRun[] = runList.map((run, i) => ({ runId: run.id, json: bytes[i]!, time: timeList[i]! }));
  return {
    ok: true,
    part: {
      partId: h.part_id,
      ruleId: h.rule_id,
      ruleVersion: h.rule_version,
      tenantId: h.tenant_id,
      maxRuns: h.max_runs,
      runsPartition: h.runs_partition,
      piece: h.piece,
      startMs,
      endMs,
      runs: partRuns,
    },
  };
}

/**
 * Each run's JSON exactly as the message holds it, in a buffer of its own. ASCII text (the usual case:
 * JSON escapes what is not) has its characters where its bytes are, so the bytes are copied from the
 * message; otherwise each run's text is encoded again (the same bytes, the message being UTF-8).
 */
function runBytes(value: Buffer, text: string): Uint8Array[] {
  const span = memberSpan(text, "runs");
  if (span === undefined) return [];
  const ascii = isAscii(value);
  return elementSpans(text, span.start, span.end).map(({ start, end }) =>
    ascii ? Buffer.from(value.subarray(start, end)) : Buffer.from(text.slice(start, end)),
  );
}

/** A runs partition's watermark: the stream time every part of that partition up to it precedes. */
export function decodeWatermark(value: Buffer | null): DecodedWatermark {
  const parsed = parseObject(value);
  if (!parsed.ok) return parsed;
  const result = RunsWatermark.safeParse(parsed.members);
  if (!result.success) return { ok: false, error: describeIssues(toFieldIssues(result.error)) };
  return { ok: true, runsPartition: result.data.runs_partition, streamTime: result.data.stream_time };
}
