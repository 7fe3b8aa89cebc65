import type { WindowSpec } from "../window/index.js";
import type { StreamState } from "./trace-fold.js";
import type { TraceSpec } from "./trace-verdict.js";

/**
 * The open-trace state of one runs partition at a cut, as plain data (DESIGN.md §4, restart): what a
 * restart restores instead of refolding twice the horizon. Per open trace, its facts, its waiting
 * candidates and its wake; the windows the trace fold put runs in that are still open; never a run's
 * bytes — a candidate or a joined run is named by its offset and re-read by the window refold, which
 * reads from below every offset named here (`needFrom`). Pure: `takeTraceSnapshot` reads a stream
 * state, `encodeTraceSnapshot`/`decodeTraceSnapshot` are its bytes, cut into chunks under a Kafka
 * message's size.
 */

/**
 * A run named by offset: its id and byte length (checked when its bytes are read again), and its bytes
 * themselves (as the codec writes them) when it was read before every plain window still open: a
 * candidate waiting out its horizon would otherwise make the refold read that far back.
 */
export type SnapshotRun = readonly [offset: number, runId: string, bytes: number, held?: string];

/** How a snapshot writes the bytes it holds (base64 in the evaluator), and reads them back. */
export interface BytesCodec {
  readonly encode: (json: Uint8Array) => string;
  readonly decode: (text: string) => Uint8Array;
}

export interface TraceSnapshot {
  /** The cut: everything below `processedUpTo` is in it; `streamTime` is the fold's there (-Infinity: none yet). */
  readonly processedUpTo: number;
  readonly streamTime: number;
  /** The lowest offset named (undefined: none): the refold must start at or below it. */
  readonly needFrom: number | undefined;
  /** The trace fold's sequence counter: wakes scheduled later order after every restored one. */
  readonly seq: number;
  readonly specs: readonly WindowSpec[];
  readonly traceSpecs: readonly SnapshotTraceSpec[];
  readonly traces: readonly SnapshotTrace[];
  readonly windows: readonly SnapshotWindow[];
  readonly pieces: readonly SnapshotPiece[];
}

export type SnapshotTraceSpec = readonly [window: number, horizonMs: number, needsRoot: boolean, needsTree: boolean];

export interface SnapshotTrace {
  readonly key: string;
  /** null: no wake scheduled (Infinity). */
  readonly wakeAt: number | null;
  readonly wakeSeq: number;
  /** [rule id, treeUntil (null: none), root verdict (null: none), rootUntil (null: none)]. */
  readonly facts: readonly (readonly [string, number | null, boolean | null, number | null])[];
  /** [trace spec, expiresAt, run], in the order they were read. */
  readonly candidates: readonly (readonly [number, number, SnapshotRun])[];
}

/** A window open at the cut whose runs joined through the trace fold: its current piece, in order. */
export interface SnapshotWindow {
  readonly spec: number;
  readonly startMs: number;
  readonly piece: number;
  /** [run, its time in the window]. */
  readonly runs: readonly (readonly [SnapshotRun, number])[];
}

/** The next piece number of such a window whose last piece closed on size. */
export interface SnapshotPiece {
  readonly spec: number;
  readonly startMs: number;
  readonly piece: number;
}

const orNull = (n: number): number | null => (Number.isFinite(n) ? n : null);

/**
 * The partition's open traces and joined windows at the cut `processedUpTo`. With a codec, the runs
 * read before the first run of every plain window still open (or before the cut, when none is) are
 * held in it, so the refold needs to read only from about the longest window back.
 */
export function takeTraceSnapshot(s: StreamState, processedUpTo: number, codec?: BytesCodec): TraceSnapshot {
  const specs: WindowSpec[] = [];
  const specIndex = new Map<string, number>();
  const specOf = (w: WindowSpec): number => {
    const key = `${w.ruleId}/${w.ruleVersion}`;
    let i = specIndex.get(key);
    if (i === undefined) {
      i = specs.push(w) - 1;
      specIndex.set(key, i);
    }
    return i;
  };
  const traceSpecs: SnapshotTraceSpec[] = [];
  const traceSpecIndex = new Map<string, number>();
  const traceSpecOf = (t: TraceSpec): number => {
    const w = specOf(t.window);
    const key = `${w}/${t.horizonMs}/${t.needsRoot}/${t.needsTree}`;
    let i = traceSpecIndex.get(key);
    if (i === undefined) {
      i = traceSpecs.push([w, t.horizonMs, t.needsRoot, t.needsTree]) - 1;
      traceSpecIndex.set(key, i);
    }
    return i;
  };
  let holdBelow = codec === undefined ? Number.NEGATIVE_INFINITY : processedUpTo;
  if (codec !== undefined)
    for (const w of s.fold.open.values()) if (!w.joined && w.firstOffset < holdBelow) holdBelow = w.firstOffset;
  let needFrom: number | undefined;
  const named = (offset: number, runId: string, json: Uint8Array): SnapshotRun => {
    if (offset < holdBelow) return [offset, runId, json.byteLength, codec!.encode(json)];
    if (needFrom === undefined || offset < needFrom) needFrom = offset;
    return [offset, runId, json.byteLength];
  };
  const traces: SnapshotTrace[] = [];
  for (const t of s.traces.open.values()) {
    const candidates: (readonly [number, number, SnapshotRun])[] = [];
    for (const c of t.candidates) {
      if (c.run === undefined) continue;
      candidates.push([traceSpecOf(c.spec), c.expiresAt, named(c.offset, c.run.runId, c.run.json)]);
    }
    const facts = [...t.facts].map(
      ([ruleId, f]) =>
        [ruleId, orNull(f.treeUntil), f.root ?? null, f.root === undefined ? null : f.rootUntil] as const,
    );
    traces.push({ key: t.key, wakeAt: orNull(t.wakeAt), wakeSeq: t.wakeSeq, facts, candidates });
  }
  const windows: SnapshotWindow[] = [];
  for (const w of s.fold.open.values()) {
    if (!w.joined) continue;
    const runs = w.runs.map((r) => [named(r.offset, r.runId, r.json), r.time] as const);
    windows.push({ spec: specOf(w.spec), startMs: w.startMs, piece: w.piece, runs });
  }
  const pieces: SnapshotPiece[] = [];
  for (const p of s.fold.nextPiece.values())
    if (p.joined) pieces.push({ spec: specOf(p.spec), startMs: p.startMs, piece: p.piece });
  return {
    processedUpTo,
    streamTime: s.fold.streamTime,
    needFrom,
    seq: s.traces.seq,
    specs,
    traceSpecs,
    traces,
    windows,
    pieces,
  };
}

/** Whether the snapshot holds nothing: a restart from it starts with empty trace state. */
export function isEmptySnapshot(s: TraceSnapshot): boolean {
  return s.traces.length === 0 && s.windows.length === 0 && s.pieces.length === 0;
}

/**
 * The snapshot as JSON text in chunks of at most `maxChunkBytes` UTF-8 bytes each (one Kafka message
 * apiece), cut anywhere but inside a character; decoding joins them first.
 */
export function encodeTraceSnapshot(s: TraceSnapshot, maxChunkBytes: number): string[] {
  // Trace keys are `<tenant>/<trace id>` and facts name rule ids: both repeat across traces, so each
  // is written once, in a table, and named by its index.
  const names: string[] = [];
  const nameIndex = new Map<string, number>();
  const nameOf = (name: string): number => {
    let i = nameIndex.get(name);
    if (i === undefined) {
      i = names.push(name) - 1;
      nameIndex.set(name, i);
    }
    return i;
  };
  const keyOf = (key: string) => {
    const slash = key.indexOf("/");
    return slash < 0 ? [-1, key] : [nameOf(key.slice(0, slash)), key.slice(slash + 1)];
  };
  const traces = s.traces.map((t) => [
    ...keyOf(t.key),
    t.wakeAt,
    t.wakeSeq,
    t.facts.map(([ruleId, ...f]) => [nameOf(ruleId), ...f]),
    t.candidates,
  ]);
  const text = JSON.stringify({
    v: 1,
    p: s.processedUpTo,
    s: orNull(s.streamTime),
    n: s.needFrom ?? null,
    q: s.seq,
    specs: s.specs.map((w) => [w.ruleId, w.ruleVersion, w.tenantId, w.seconds, w.maxRuns]),
    ts: s.traceSpecs,
    names,
    t: traces,
    w: s.windows.map((w) => [w.spec, w.startMs, w.piece, w.runs]),
    x: s.pieces.map((p) => [p.spec, p.startMs, p.piece]),
  });
  const chunks: string[] = [];
  let from = 0;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // A surrogate pair is one 4-byte character: never cut between its halves.
    const pair = code >= 0xd800 && code < 0xdc00 && i + 1 < text.length;
    const size = code < 0x80 ? 1 : code < 0x800 ? 2 : pair ? 4 : 3;
    if (bytes + size > maxChunkBytes && i > from) {
      chunks.push(text.slice(from, i));
      from = i;
      bytes = 0;
    }
    bytes += size;
    if (pair) i++;
  }
  chunks.push(text.slice(from));
  return chunks;
}

type Raw = {
  v: unknown;
  p: number;
  s: number | null;
  n: number | null;
  q: number;
  specs: [string, number, string, number, number][];
  ts: SnapshotTraceSpec[];
  names: string[];
  t: [
    number,
    string,
    number | null,
    number,
    [number, number | null, boolean | null, number | null][],
    SnapshotTrace["candidates"],
  ][];
  w: [number, number, number, SnapshotWindow["runs"]][];
  x: [number, number, number][];
};

/**
 * The snapshot from its chunks, in order; undefined when they are not one whole snapshot (a chunk
 * missing or foreign): the caller then restarts without it.
 */
export function decodeTraceSnapshot(chunks: readonly string[]): TraceSnapshot | undefined {
  try {
    const r = JSON.parse(chunks.join("")) as Raw;
    if (r.v !== 1 || !Number.isInteger(r.p) || (r.s !== null && typeof r.s !== "number") || !Array.isArray(r.t))
      return undefined;
    const specs = r.specs.map(([ruleId, ruleVersion, tenantId, seconds, maxRuns]) => ({
      ruleId,
      ruleVersion,
      tenantId,
      seconds,
      maxRuns,
    }));
    return {
      processedUpTo: r.p,
      streamTime: r.s ?? Number.NEGATIVE_INFINITY,
      needFrom: r.n ?? undefined,
      seq: r.q,
      specs,
      traceSpecs: r.ts,
      traces: r.t.map(([prefix, rest, wakeAt, wakeSeq, facts, candidates]) => ({
        key: prefix < 0 ? rest : `${r.names[prefix]!}/${rest}`,
        wakeAt,
        wakeSeq,
        facts: facts.map(([rule, ...f]) => [r.names[rule]!, ...f] as const),
        candidates,
      })),
      windows: r.w.map(([spec, startMs, piece, runs]) => ({ spec, startMs, piece, runs })),
      pieces: r.x.map(([spec, startMs, piece]) => ({ spec, startMs, piece })),
    };
  } catch {
    return undefined;
  }
}
