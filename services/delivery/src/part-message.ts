import { isAscii } from "node:buffer";
import {
  BundledWindowPart,
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
 * against the WindowPart contract; a bundle of parts (WindowPartBundle), expanded into the parts it
 * carries; and a runs partition's watermark. The one decoder of the topic: delivery, the tests and the
 * benches read it through `decodeWindowsMessage`.
 *
 * A part's runs are checked only for what delivery relies on (an object with an id): runs were
 * validated against the Run contract when they entered (the evaluator dead-letters the rest), and
 * delivery passes them through byte for byte. Each run keeps its exact bytes, copied out of the
 * message: the message is a slice of the whole fetch response, which an open window would otherwise
 * keep alive until the window completes.
 */

export type DecodedPart =
  | { readonly ok: true; readonly part: AssemblePart; readonly head: WindowPartHead }
  | { readonly ok: false; readonly error: string };
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

/** What is wrong with a message's runs, if anything (the contract's wording and field paths). */
function runsIssue(runs: unknown, empty: string): FieldIssue | undefined {
  if (!Array.isArray(runs)) return { path: "runs", message: "must be an array of runs" };
  if (runs.length === 0) return { path: "runs", message: empty };
  for (let i = 0; i < runs.length; i++) {
    const run: unknown = runs[i];
    if (typeof run !== "object" || run === null || Array.isArray(run))
      return { path: `runs.${i}`, message: "must be a run object" };
    const id = (run as { id?: unknown }).id;
    // `Id`'s pattern by hand (a regex per run otherwise): the run check's differential test holds them equal.
    if (typeof id !== "string" || !isGuidString(id))
      return { path: `runs.${i}.id`, message: "must be a UUID (8-4-4-4-12 hex digits)" };
  }
  return undefined;
}

/** What is wrong with the stream times of `count` runs, if anything. */
function timesIssue(times: unknown, count: number): FieldIssue | undefined {
  if (!Array.isArray(times)) return { path: "run_times", message: "must be an array of stream times" };
  if (times.length !== count) return { path: "run_times", message: "must hold one time per run" };
  for (let i = 0; i < times.length; i++) {
    const t: unknown = times[i];
    if (typeof t !== "number" || !Number.isSafeInteger(t) || t < 0)
      return { path: `run_times.${i}`, message: "must be a stream time in ms" };
  }
  return undefined;
}

/** A part's bounds in ms; undefined unless its end is after its start. */
function boundsOf(h: WindowPartHead): { startMs: number; endMs: number } | undefined {
  const startMs = Date.parse(h.start_time);
  const endMs = Date.parse(h.end_time);
  return endMs > startMs ? { startMs, endMs } : undefined;
}

function assemblePart(h: WindowPartHead, bounds: { startMs: number; endMs: number }, runs: PartRun[]): AssemblePart {
  return {
    partId: h.part_id,
    ruleId: h.rule_id,
    ruleVersion: h.rule_version,
    tenantId: h.tenant_id,
    maxRuns: h.max_runs,
    runsPartition: h.runs_partition,
    piece: h.piece,
    startMs: bounds.startMs,
    endMs: bounds.endMs,
    runs,
  };
}

/** A `runhooks.windows` part, checked, with each run's exact bytes (owned) and stream time. */
export function decodePart(value: Buffer | null): DecodedPart {
  const parsed = parseObject(value);
  if (!parsed.ok) return parsed;
  const { runs, run_times: times, ...members } = parsed.members;
  const head = WindowPartHead.safeParse(members);
  const issues = head.success ? [] : toFieldIssues(head.error);
  const runIssue = runsIssue(runs, "a part holds at least one run") ?? timesIssue(times, (runs as unknown[]).length);
  if (runIssue) issues.push(runIssue);
  if (!head.success || issues.length > 0) return { ok: false, error: describeIssues(issues) };
  const bounds = boundsOf(head.data);
  if (bounds === undefined) return { ok: false, error: "end_time: must be after start_time" };
  const runList = runs as { id: string }[];
  const timeList = times as number[];
  const bytes = runBytes(value!, parsed.text);
  if (bytes.length !== runList.length) return { ok: false, error: "runs: could not be located in the message" };
  const partRuns: PartRun[] = runList.map((run, i) => ({ runId: run.id, json: bytes[i]!, time: timeList[i]! }));
  return { ok: true, part: assemblePart(head.data, bounds, partRuns), head: head.data };
}

/** A part of a bundle as the assembler takes it, with the trace context its entry carried. */
export interface BundledPart {
  readonly part: AssemblePart;
  readonly traceparent: string | undefined;
  /** The part's head, as `windowPartJson` writes it. */
  readonly head: WindowPartHead;
}

/**
 * An entry of a bundle refused alone: why, the rule id it names when that can be read, and what can
 * be rebuilt of it (the single WindowPart message it stands for when its run refs index the bundle's
 * runs; else the entry as it was).
 */
export interface RefusedEntry {
  readonly error: string;
  readonly ruleId: string | undefined;
  readonly value: Buffer;
}

export type DecodedBundle =
  | { readonly ok: true; readonly parts: BundledPart[]; readonly refused: RefusedEntry[] }
  | { readonly ok: false; readonly error: string };

/**
 * A `runhooks.windows` bundle (WindowPartBundle) as the parts it carries, in order: each part's runs
 * are the bundle's runs its `run_refs` name, sharing their bytes (owned, copied once per bundle) and
 * times. The envelope (schema version, runs partition, runs and their times) is checked whole: any
 * issue there makes the whole bundle invalid. Each entry is judged alone: a bundle mixes the rules of
 * every tenant that hash to its windows partition, so one bad entry is refused by itself and the
 * others go on.
 */
export function decodeBundle(value: Buffer | null): DecodedBundle {
  const parsed = parseObject(value);
  if (!parsed.ok) return parsed;
  const { schema_version, runs_partition, parts, run_times: times, runs, ...unknown } = parsed.members;
  const issues: FieldIssue[] = Object.keys(unknown).map((k) => ({ path: k, message: "is not a bundle member" }));
  if (schema_version !== 1) issues.push({ path: "schema_version", message: "must be 1" });
  if (typeof runs_partition !== "number" || !Number.isSafeInteger(runs_partition) || runs_partition < 0)
    issues.push({ path: "runs_partition", message: "must be a partition number" });
  const runIssue = runsIssue(runs, "a bundle holds at least one run") ?? timesIssue(times, (runs as unknown[]).length);
  if (runIssue) issues.push(runIssue);
  if (!Array.isArray(parts) || parts.length === 0)
    issues.push({ path: "parts", message: "a bundle holds at least one part" });
  if (issues.length > 0) return { ok: false, error: describeIssues(issues) };
  const runList = runs as { id: string }[];
  const timeList = times as number[];
  const bytes = runBytes(value!, parsed.text);
  if (bytes.length !== runList.length) return { ok: false, error: "runs: could not be located in the message" };
  const shared: PartRun[] = runList.map((run, i) => ({ runId: run.id, json: bytes[i]!, time: timeList[i]! }));
  const out: BundledPart[] = [];
  const refused: RefusedEntry[] = [];
  for (const [i, entry] of (parts as unknown[]).entries()) {
    const judged = judgeEntry(entry, runs_partition as number, shared);
    if (judged.ok) out.push(judged.part);
    else refused.push({ error: `parts.${i}${judged.error}`, ...rebuilt(entry, shared) });
  }
  return { ok: true, parts: out, refused };
}

/** One entry of a bundle, checked against the contract and the bundle's envelope. */
function judgeEntry(
  entry: unknown,
  runsPartition: number,
  shared: readonly PartRun[],
): { readonly ok: true; readonly part: BundledPart } | { readonly ok: false; readonly error: string } {
  const e = BundledWindowPart.safeParse(entry);
  if (!e.success) return { ok: false, error: `.${describeIssues(toFieldIssues(e.error))}` };
  const { run_refs: refs, traceparent, ...head } = e.data;
  if (head.runs_partition !== runsPartition) return { ok: false, error: ".runs_partition: must be the bundle's" };
  const bad = refs.findIndex((r) => r >= shared.length);
  if (bad >= 0) return { ok: false, error: `.run_refs.${bad}: must index the bundle's runs` };
  const bounds = boundsOf(head);
  if (bounds === undefined) return { ok: false, error: ".end_time: must be after start_time" };
  const part = assemblePart(
    head,
    bounds,
    refs.map((r) => shared[r]!),
  );
  return { ok: true, part: { part, traceparent, head } };
}

/**
 * What can be rebuilt of a refused entry: the WindowPart message it stands for (its members but
 * `run_refs`, then the runs they name) when its refs index the bundle's runs; else the entry itself.
 */
function rebuilt(entry: unknown, shared: readonly PartRun[]): { ruleId: string | undefined; value: Buffer } {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry))
    return { ruleId: undefined, value: Buffer.from(JSON.stringify(entry) ?? "null") };
  const { run_refs: refs, ...members } = entry as Record<string, unknown>;
  const ruleId = typeof members.rule_id === "string" && isGuidString(members.rule_id) ? members.rule_id : undefined;
  const indexes =
    Array.isArray(refs) &&
    refs.every((r) => Number.isSafeInteger(r) && (r as number) >= 0 && (r as number) < shared.length)
      ? (refs as number[])
      : undefined;
  if (indexes === undefined) return { ruleId, value: Buffer.from(JSON.stringify(entry)) };
  return {
    ruleId,
    value: windowPartJson(
      members,
      indexes.map((r) => shared[r]!),
    ),
  };
}

const COMMA = 0x2c;

/**
 * A part of a bundle as the single WindowPart message it stands for: its head serialised again in
 * schema order (byte for byte what the evaluator writes, which writes in that order), its run times,
 * its runs' exact bytes. What a refused part is dead-lettered as.
 */
export function windowPartJson(head: object, runs: readonly PartRun[]): Buffer {
  const start = Buffer.from(
    `${JSON.stringify(head).slice(0, -1)},"run_times":[${runs.map((r) => r.time).join(",")}],"runs":[`,
  );
  let size = start.length + 2 + Math.max(0, runs.length - 1);
  for (const r of runs) size += r.json.byteLength;
  const out = Buffer.allocUnsafe(size);
  let at = start.copy(out, 0);
  for (const [i, r] of runs.entries()) {
    if (i > 0) out[at++] = COMMA;
    out.set(r.json, at);
    at += r.json.byteLength;
  }
  out.write("]}", at);
  return out;
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

/** What a message of `runhooks.windows` is, by its `runhooks-kind` header (none: a part). */
export type DecodedWindowsMessage =
  | { readonly kind: "tick" }
  | { readonly kind: "watermark"; readonly runsPartition: number; readonly streamTime: number }
  /**
   * A single part message (`bundled` false, its trace context in its header) or a bundle's parts and
   * the entries of it refused alone.
   */
  | {
      readonly kind: "parts";
      readonly bundled: boolean;
      readonly parts: BundledPart[];
      readonly refused: readonly RefusedEntry[];
    }
  | { readonly kind: "invalid"; readonly error: string };

/** The header naming what a message of the windows topic is. */
export const KIND_HEADER = "runhooks-kind";

type Headers = { readonly [key: string]: Buffer | string | (Buffer | string)[] | undefined } | undefined;

export function header(headers: Headers, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/**
 * A message of `runhooks.windows`: `tick`, `watermark`, `parts` (a bundle) or `part` — a message without
 * a kind is taken for a part.
 */
export function decodeWindowsMessage(message: {
  readonly value: Buffer | null;
  readonly headers?: Headers;
}): DecodedWindowsMessage {
  const kind = header(message.headers, KIND_HEADER);
  switch (kind) {
    case "tick":
      return { kind: "tick" };
    case "watermark": {
      const w = decodeWatermark(message.value);
      if (!w.ok) return { kind: "invalid", error: `watermark: ${w.error}` };
      return { kind: "watermark", runsPartition: w.runsPartition, streamTime: w.streamTime };
    }
    case "parts": {
      const b = decodeBundle(message.value);
      return b.ok
        ? { kind: "parts", bundled: true, parts: b.parts, refused: b.refused }
        : { kind: "invalid", error: `bundle: ${b.error}` };
    }
    default: {
      const p = decodePart(message.value);
      if (!p.ok) return { kind: "invalid", error: p.error };
      return {
        kind: "parts",
        bundled: false,
        parts: [{ part: p.part, traceparent: header(message.headers, "traceparent"), head: p.head }],
        refused: [],
      };
    }
  }
}
