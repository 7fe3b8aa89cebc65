import { foldStep, noteHeldRun, windowKey, type ClosedPart, type OpenWindow, type WindowRun } from "../window/index.js";
import { createStreamState, type StreamInput, type StreamState } from "./trace-fold.js";
import type { Candidate, TraceLimits } from "./trace-state.js";
import type { BytesCodec, TraceSnapshot } from "./trace-snapshot.js";
import { pushWake } from "./trace-wakes.js";
import type { TraceSpec } from "./trace-verdict.js";

/**
 * A restart from a trace snapshot (DESIGN.md §4, restart). The snapshot's open traces and joined
 * windows are restored as they stood at its cut P, with their runs' bytes still to read; the window
 * refold then reads the log from below every offset the snapshot names (and from S − W for the plain
 * windows) up to P with `windowRefoldStep` — the window fold only, plain matches only (what the trace
 * fold joined below P is restored already) — and fills in the named runs' bytes as it passes their
 * offsets. At P (`finishRestore`) the state is the one an uninterrupted fold had there, or, when a
 * named run was not read again (the log lost it), the caller falls back to refolding the horizon.
 */

const UNREAD = new Uint8Array(0);

export interface Restore {
  readonly state: StreamState;
  readonly snapshot: TraceSnapshot;
  /** Per offset, what is waiting for that run's bytes: set once read (and the byte length checked). */
  readonly unread: Map<number, ((json: Uint8Array) => void)[]>;
  /** Run ids by offset, to check that the run read there is the one named. */
  readonly runIds: Map<number, string>;
  readonly byteLengths: Map<number, number>;
}

/** The stream state the snapshot describes, its runs' bytes unread; the window fold's clock not started. */
export function restoreFromSnapshot(
  partition: number,
  snapshot: TraceSnapshot,
  maxBytes?: number,
  limits?: TraceLimits,
  codec?: Pick<BytesCodec, "decode">,
): Restore {
  const state = createStreamState(partition, maxBytes, limits);
  const unread = new Map<number, ((json: Uint8Array) => void)[]>();
  const runIds = new Map<number, string>();
  const byteLengths = new Map<number, number>();
  /** The run's bytes: held in the snapshot, or read again by the refold (then `set`). */
  const bytesOf = (run: readonly [number, string, number, string?], set: (json: Uint8Array) => void) => {
    const [offset, runId, bytes, held] = run;
    if (held !== undefined && codec !== undefined) return codec.decode(held);
    wait(offset, runId, bytes, set);
    return UNREAD;
  };
  const wait = (offset: number, runId: string, bytes: number, set: (json: Uint8Array) => void) => {
    runIds.set(offset, runId);
    byteLengths.set(offset, bytes);
    const list = unread.get(offset);
    if (list === undefined) unread.set(offset, [set]);
    else list.push(set);
  };
  const traceSpecs: TraceSpec[] = snapshot.traceSpecs.map(([w, horizonMs, needsRoot, needsTree]) => ({
    window: snapshot.specs[w]!,
    horizonMs,
    needsRoot,
    needsTree,
  }));
  const tr = state.traces;
  const queue: Candidate[] = [];
  for (const t of snapshot.traces) {
    const facts = new Map(
      t.facts.map(([ruleId, treeUntil, root, rootUntil]) => [
        ruleId,
        {
          treeUntil: treeUntil ?? Number.NEGATIVE_INFINITY,
          root: root ?? undefined,
          rootUntil: rootUntil ?? Number.NEGATIVE_INFINITY,
        },
      ]),
    );
    const candidates = t.candidates.map(([spec, expiresAt, named]) => {
      const [offset, runId, bytes] = named;
      const c: Candidate = { offset, spec: traceSpecs[spec]!, expiresAt, run: undefined };
      c.run = { offset, runId, json: bytesOf(named, (json) => (c.run = { offset, runId, json })) };
      tr.heldBytes += bytes;
      queue.push(c);
      return c;
    });
    const wakeAt = t.wakeAt ?? Number.POSITIVE_INFINITY;
    tr.open.set(t.key, { key: t.key, facts, candidates, wakeAt, wakeSeq: t.wakeSeq });
    if (t.wakeAt !== null) pushWake(tr.wakes, { at: wakeAt, seq: t.wakeSeq, key: t.key });
  }
  // Offset order, and the order read within one offset (every candidate of one offset is of one trace).
  tr.queue = queue.sort((a, b) => a.offset - b.offset);
  tr.seq = snapshot.seq;
  const fold = state.fold;
  for (const w of snapshot.windows) {
    const spec = snapshot.specs[w.spec]!;
    const runs: WindowRun[] = [];
    let bytes = 0;
    let firstOffset = Number.POSITIVE_INFINITY;
    const ids = new Set<string>();
    for (const [named, time] of w.runs) {
      const [offset, runId, length] = named;
      const i = runs.length;
      runs.push({ offset, runId, json: bytesOf(named, (json) => (runs[i] = { offset, runId, json, time })), time });
      ids.add(runId);
      noteHeldRun(fold, runId);
      bytes += length + 1;
      firstOffset = Math.min(firstOffset, offset);
    }
    const endMs = w.startMs + spec.seconds * 1000;
    const key = windowKey(spec, w.startMs);
    const open: OpenWindow = {
      spec,
      key,
      closed: false,
      joined: true,
      startMs: w.startMs,
      endMs,
      piece: w.piece,
      runs,
      ids,
      bytes,
      firstOffset,
    };
    fold.open.set(key, open);
    fold.earliestEnd = Math.min(fold.earliestEnd, endMs);
  }
  for (const p of snapshot.pieces) {
    const spec = snapshot.specs[p.spec]!;
    const endMs = p.startMs + spec.seconds * 1000;
    fold.nextPiece.set(windowKey(spec, p.startMs), { piece: p.piece, endMs, spec, startMs: p.startMs, joined: true });
    fold.earliestEnd = Math.min(fold.earliestEnd, endMs);
  }
  return { state, snapshot, unread, runIds, byteLengths };
}

/** Gives the run read at `offset` to what the snapshot named there, when it is that run. */
export function fillRunBytes(r: Restore, offset: number, runId: string, json: Uint8Array): void {
  const waiting = r.unread.get(offset);
  if (waiting === undefined || r.runIds.get(offset) !== runId || r.byteLengths.get(offset) !== json.byteLength) return;
  for (const set of waiting) set(json);
  r.unread.delete(offset);
}

/**
 * One message of the window refold below the snapshot's cut: its plain matches go to the window fold
 * (joins were the trace fold's, restored), and its bytes to what the snapshot named at its offset.
 * Returns the parts it closed (all below the cut: the caller suppresses them).
 */
export function windowRefoldStep(r: Restore, input: StreamInput, json?: Uint8Array): readonly ClosedPart[] {
  if (input.kind === "time") return foldStep(r.state.fold, input);
  if (r.unread.has(input.offset)) fillRunBytes(r, input.offset, input.run.runId, json ?? input.run.json);
  return foldStep(r.state.fold, {
    kind: "run",
    offset: input.offset,
    time: input.time,
    run: input.run,
    matches: input.matches,
  });
}

/**
 * Ends the window refold at the cut: the offsets the snapshot named but the refold did not read again
 * (undefined: none, and the state is the uninterrupted fold's at the cut; else the caller must not use
 * it). Moves the window fold's clock to the snapshot's stream time, where the cut left it.
 */
export function finishRestore(r: Restore): { readonly missing: readonly number[] } | undefined {
  if (r.unread.size > 0) return { missing: [...r.unread.keys()].sort((a, b) => a - b) };
  if (r.snapshot.streamTime > r.state.fold.streamTime) r.state.fold.streamTime = r.snapshot.streamTime;
  return undefined;
}
