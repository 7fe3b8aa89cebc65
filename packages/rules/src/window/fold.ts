import {
  MAX_FILTER_BITS,
  addNewRunId,
  addRunId,
  createRunIdFilter,
  full,
  mayHold,
  saturated,
  saturatedRunIdFilter,
  type RunIdFilter,
} from "./run-id-filter.js";
import { windowId } from "./window-id.js";

/**
 * The window fold of one partition of the runs topic (DESIGN.md §4). What it closes are *parts*: one
 * runs partition's share of a window, which the assembler merges over every runs partition.
 *
 * Invariants:
 * - Deterministic: the same sequence of inputs yields the same closed parts, in the same order.
 *   Nothing here reads a clock; time is each message's broker append time, passed in.
 * - Stream time never decreases: an input older than the stream time is treated as happening now.
 *   Each run keeps the stream time it was read at: the assembler orders a window's runs by it.
 * - A window `[kW, (k+1)W)` closes when stream time reaches its end. It is published in pieces: when
 *   one more run would take a piece past `maxBytes`, piece n closes and piece n+1 opens with the same
 *   bounds. `max_runs` closes nothing here: it cuts the merged window, which only the assembler sees.
 * - When stream time reaches S, every part of a window with end <= S has been closed: what a watermark
 *   (p, S) promises.
 * - A run id is in a piece at most once: a later copy of a run already in the piece (the log is at
 *   least once — a producer's or a client's retry appends a run again) is left out.
 *
 * The state is mutated in place (this runs once per message on the hot path); callers own it.
 */

/** A part is one Kafka message; stay well under the broker's default 1 MiB `message.max.bytes`. */
export const MAX_WINDOW_BYTES = 768 * 1024;

/** The rule version a run matched, with what the fold needs of it. */
export interface WindowSpec {
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly tenantId: string;
  readonly seconds: number;
  readonly maxRuns: number;
}

/**
 * One run in a window: its id, its JSON exactly as it was read from the log (the message value's
 * bytes: parts are written by copying them, never by re-encoding; a run in many windows is shared), and
 * the partition's stream time (ms) when it was read.
 */
export interface WindowRun {
  readonly offset: number;
  readonly runId: string;
  readonly json: Uint8Array;
  readonly time: number;
}

/**
 * A run read earlier that joins a window now: a candidate of a trace-aware rule its trace settled
 * (DESIGN.md §4). It joins the window of the stream time it joins at, with that time as its run time.
 */
export interface FoldJoin {
  readonly run: Omit<WindowRun, "time">;
  readonly spec: WindowSpec;
}

export type FoldInput =
  /** A tick, a run no rule matched, a run that has not ended: it only moves time. */
  | { readonly kind: "time"; readonly offset: number; readonly time: number }
  | {
      readonly kind: "run";
      readonly offset: number;
      readonly time: number;
      readonly run: Omit<WindowRun, "offset" | "time">;
      readonly matches: readonly WindowSpec[];
      /** Runs that join now, after this one (the trace fold's). */
      readonly joins?: readonly FoldJoin[];
    };

/** `time`: the stream time reached the window's end; `max_bytes`: the next run would not fit the piece. */
export type CloseReason = "time" | "max_bytes";

/** One piece of one runs partition's share of a window: a `WindowPart` on the windows topic. */
export interface ClosedPart {
  /** windowId(rule, version, partition, start, piece): a refold re-emits a part with the same id. */
  readonly partId: string;
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly tenantId: string;
  /** The rule version's `max_runs`, which the assembler cuts the merged window by. */
  readonly maxRuns: number;
  readonly partition: number;
  readonly piece: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly runs: readonly WindowRun[];
  readonly reason: CloseReason;
  /** Offset of the message whose processing closed it: restarts suppress closes below a checkpoint. */
  readonly closedAt: number;
}

export interface OpenWindow {
  readonly spec: WindowSpec;
  /** Its key in `open`. */
  readonly key: string;
  /** Set once it left `open`. */
  closed: boolean;
  /** Its runs joined through the trace fold (a trace-aware version's window): a trace snapshot holds it. */
  readonly joined: boolean;
  readonly startMs: number;
  readonly endMs: number;
  readonly piece: number;
  readonly runs: WindowRun[];
  /**
   * The ids of `runs`, made the first time a run that may be a copy asks a window holding more than
   * `SCAN_IDS` (below that a scan of `runs` finds a copy), and kept from then on. Most windows never
   * have one: a run read for the first time passes `FoldState.held` and asks no window.
   */
  ids: Set<string> | undefined;
  bytes: number;
  /** The lowest offset of its runs (a joined run was read before the runs added ahead of it). */
  firstOffset: number;
}

/** The next piece of a window whose earlier piece closed on size. */
export interface NextPiece {
  readonly piece: number;
  readonly endMs: number;
  readonly spec: WindowSpec;
  readonly startMs: number;
  readonly joined: boolean;
}

export interface FoldState {
  readonly partition: number;
  /** Bytes of runs a piece may hold (`MAX_WINDOW_BYTES`, smaller in tests). */
  readonly maxBytes: number;
  /** -Infinity until the first message. */
  streamTime: number;
  /** Open windows by `ruleId/version/startMs`. */
  readonly open: Map<string, OpenWindow>;
  /** Next piece number of a window key whose earlier piece closed on size, until its bounds pass. */
  readonly nextPiece: Map<string, NextPiece>;
  /**
   * Lower bound of every end in `open` and `nextPiece` (Infinity when both are empty): messages before
   * it close nothing, so the per-message cost does not grow with the number of open windows.
   */
  earliestEnd: number;
  /**
   * The window each rule version's spec object last joined a run to: a run matched by many rules finds
   * each window without building and hashing its key (one rule version has one open window at a time;
   * a spec object the fold has not seen, or a window since closed, falls back to `open`).
   */
  readonly lastWindow: WeakMap<WindowSpec, OpenWindow>;
  /**
   * Every id of a run in an open window, and maybe others (run-id-filter.ts): a run it does not hold is
   * in no window, and joins its windows without their duplicate checks. Rebuilt from the open windows'
   * runs once full.
   */
  held: RunIdFilter;
  /** The largest `held` may grow (`MAX_FILTER_BITS`; smaller in tests). */
  readonly maxHeldBits: number;
}

export function createFoldState(
  partition: number,
  maxBytes = MAX_WINDOW_BYTES,
  maxHeldBits = MAX_FILTER_BITS,
): FoldState {
  return {
    partition,
    maxBytes,
    streamTime: Number.NEGATIVE_INFINITY,
    open: new Map(),
    nextPiece: new Map(),
    earliestEnd: Number.POSITIVE_INFINITY,
    lastWindow: new WeakMap(),
    held: createRunIdFilter(0, maxHeldBits),
    maxHeldBits,
  };
}

/** Notes a run an open window holds (a window restored from a trace snapshot holds its runs so). */
export function noteHeldRun(state: FoldState, runId: string): void {
  addRunId(state.held, runId);
}

/**
 * The filter made anew from the ids the open windows hold: closed windows' ids leave it. Saturated
 * when they are more than half what it takes, or its rebuilds would come too often for what they cost
 * (their joins, many per id when runs join many windows); `closeDue` tries again as windows close.
 */
function rebuildHeld(state: FoldState): void {
  let joins = 0;
  for (const w of state.open.values()) joins += w.runs.length;
  const held = createRunIdFilter(joins, state.maxHeldBits);
  if (joins <= 8 * held.limit) {
    for (const w of state.open.values()) for (const r of w.runs) addNewRunId(held, r.runId);
    if (held.added <= held.limit / 2) {
      state.held = held;
      return;
    }
  }
  state.held = saturatedRunIdFilter();
}

function close(state: FoldState, w: OpenWindow, reason: CloseReason, at: number): ClosedPart {
  w.closed = true;
  return {
    partId: windowId({
      ruleId: w.spec.ruleId,
      ruleVersion: w.spec.ruleVersion,
      partition: state.partition,
      startMs: w.startMs,
      chunk: w.piece,
    }),
    ruleId: w.spec.ruleId,
    ruleVersion: w.spec.ruleVersion,
    tenantId: w.spec.tenantId,
    maxRuns: w.spec.maxRuns,
    partition: state.partition,
    piece: w.piece,
    startMs: w.startMs,
    endMs: w.endMs,
    runs: w.runs,
    reason,
    closedAt: at,
  };
}

/** Closes, in a fixed order, every open window whose end the stream time has reached. */
function closeDue(state: FoldState, at: number, out: ClosedPart[]): void {
  if (state.streamTime < state.earliestEnd) return;
  const due: [string, OpenWindow][] = [];
  for (const entry of state.open) if (entry[1].endMs <= state.streamTime) due.push(entry);
  if (due.length > 0) {
    // Map order is insertion order, which is already deterministic; sorting makes the emitted order
    // independent of how the windows were opened, which keeps it stable across code changes too.
    due.sort(([a, wa], [b, wb]) => wa.endMs - wb.endMs || (a < b ? -1 : a > b ? 1 : 0));
    for (const [key, w] of due) {
      state.open.delete(key);
      out.push(close(state, w, "time", at));
    }
  }
  if (due.length > 0 && saturated(state.held)) rebuildHeld(state);
  for (const [key, next] of state.nextPiece) if (next.endMs <= state.streamTime) state.nextPiece.delete(key);
  let earliest = Number.POSITIVE_INFINITY;
  for (const w of state.open.values()) if (w.endMs < earliest) earliest = w.endMs;
  for (const next of state.nextPiece.values()) if (next.endMs < earliest) earliest = next.endMs;
  state.earliestEnd = earliest;
}

/** Runs a window's duplicate check scans before it keeps a set of their ids. */
const SCAN_IDS = 8;

function holds(w: OpenWindow, runId: string): boolean {
  if (w.ids !== undefined) return w.ids.has(runId);
  if (w.runs.length > SCAN_IDS) {
    w.ids = new Set(w.runs.map((r) => r.runId));
    return w.ids.has(runId);
  }
  for (const r of w.runs) if (r.runId === runId) return true;
  return false;
}

export function windowKey(spec: WindowSpec, startMs: number): string {
  return `${spec.ruleId}/${spec.ruleVersion}/${startMs}`;
}

/**
 * Adds `run` to its window of `spec`, closing the window's piece first when the run would not fit.
 * `mayBeHeld`: `state.held` holds the run's id, so a window may hold it already (then it is left out).
 * False when it was left out.
 */
function addRun(
  state: FoldState,
  spec: WindowSpec,
  run: WindowRun,
  at: number,
  out: ClosedPart[],
  joined: boolean,
  mayBeHeld: boolean,
): boolean {
  const lengthMs = spec.seconds * 1000;
  const startMs = Math.floor(state.streamTime / lengthMs) * lengthMs;
  let w: OpenWindow | undefined = state.lastWindow.get(spec);
  let key: string;
  if (w !== undefined && !w.closed && w.startMs === startMs) key = w.key;
  else {
    key = windowKey(spec, startMs);
    w = state.open.get(key);
  }
  // The same run twice in one step (a spec given twice) is the window's last run; a copy read earlier
  // is found only if the filter may hold its id.
  if (w !== undefined && (w.runs[w.runs.length - 1] === run || (mayBeHeld && holds(w, run.runId)))) return false;
  // Bytes, as the broker counts them (one more for the separating comma).
  const bytes = run.json.byteLength + 1;
  if (w && w.bytes + bytes > state.maxBytes && w.runs.length > 0) {
    state.open.delete(key);
    state.nextPiece.set(key, { piece: w.piece + 1, endMs: w.endMs, spec, startMs, joined });
    out.push(close(state, w, "max_bytes", at));
    w = undefined;
  }
  if (!w) {
    const piece = state.nextPiece.get(key)?.piece ?? 0;
    w = {
      spec,
      key,
      closed: false,
      joined,
      startMs,
      endMs: startMs + lengthMs,
      piece,
      // Made holding its first run: an array grown from empty reserves 17 slots, and many windows
      // hold one run.
      runs: [run],
      ids: undefined,
      bytes,
      firstOffset: run.offset,
    };
    state.open.set(key, w);
    if (w.endMs < state.earliestEnd) state.earliestEnd = w.endMs;
    state.lastWindow.set(spec, w);
    return true;
  }
  state.lastWindow.set(spec, w);
  w.runs.push(run);
  if (w.ids !== undefined) w.ids.add(run.runId);
  w.bytes += bytes;
  if (run.offset < w.firstOffset) w.firstOffset = run.offset;
  return true;
}

/** Adds a run to the windows of `specs`; its id to `state.held` when any took it. */
function join(
  state: FoldState,
  specs: readonly WindowSpec[],
  run: WindowRun,
  at: number,
  out: ClosedPart[],
  joined: boolean,
): void {
  if (specs.length === 0) return;
  const mayBeHeld = mayHold(state.held, run.runId);
  let took = false;
  for (const spec of specs) if (addRun(state, spec, run, at, out, joined, mayBeHeld)) took = true;
  if (took && !mayBeHeld) {
    addRunId(state.held, run.runId);
    if (full(state.held)) rebuildHeld(state);
  }
}

const NO_JOINS: readonly FoldJoin[] = Object.freeze([]);

/** What a step that closes nothing returns: most steps (shared, so they allocate nothing). */
const NOTHING_CLOSED: readonly ClosedPart[] = Object.freeze([]);

/**
 * Folds one message into the partition's state and returns the parts it closed: first those whose
 * window's end the message's time reached, then any piece the message's run did not fit in.
 */
export function foldStep(state: FoldState, input: FoldInput): readonly ClosedPart[] {
  if (input.time > state.streamTime) state.streamTime = input.time;
  if (input.kind === "time" && state.streamTime < state.earliestEnd) return NOTHING_CLOSED;
  const out: ClosedPart[] = [];
  closeDue(state, input.offset, out);
  if (input.kind === "run") {
    const run: WindowRun = {
      offset: input.offset,
      runId: input.run.runId,
      json: input.run.json,
      time: state.streamTime,
    };
    join(state, input.matches, run, input.offset, out, false);
    for (const j of input.joins ?? NO_JOINS)
      join(state, [j.spec], { ...j.run, time: state.streamTime }, input.offset, out, true);
  }
  return out;
}

/** The lowest offset a restart must still read: the first run of the oldest open window. */
export function oldestOpenOffset(state: FoldState): number | undefined {
  let oldest: number | undefined;
  for (const w of state.open.values()) if (oldest === undefined || w.firstOffset < oldest) oldest = w.firstOffset;
  return oldest;
}

/** Earliest end among open windows: when the next time-based close is due (drives idle ticks). */
export function nextCloseTime(state: FoldState): number | undefined {
  let next: number | undefined;
  for (const w of state.open.values()) if (next === undefined || w.endMs < next) next = w.endMs;
  return next;
}
