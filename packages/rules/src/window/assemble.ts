import { chunkWindow, mergeParts, type MergedChunk, type MergedWindowSpec, type PartRun } from "./assemble-merge.js";

/**
 * The assembler of one partition of the windows topic (DESIGN.md §4): it folds the parts the
 * evaluators publish per runs partition, and their watermarks, into windows merged over every runs
 * partition.
 *
 * Invariants:
 * - Input contract: a watermark (p, S) follows, in the log, every part of runs partition p for a window
 *   with end <= S. A runs partition created before a window's end is counted in `partitions` before
 *   any watermark that would complete that window is folded.
 * - A window is complete when its end <= `low`, the minimum watermark over runs partitions p < N
 *   (a partition without a watermark blocks everything). `floor` is the highest `low` so far: every
 *   window with end <= floor has been emitted, every open window ends after it, and a part for a
 *   window with end <= floor is a re-emission (an evaluator's refold), dropped.
 * - Deterministic: the same inputs yield the same chunks in the same order, (end, rule id, version,
 *   start) across windows; nothing here reads a clock.
 *
 * The state is mutated in place (one step per windows message on the hot path); callers own it.
 */

/** A part as the assembler takes it: the WindowPart contract with times in ms and runs with their times. */
export interface AssemblePart {
  readonly partId: string;
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly tenantId: string;
  readonly maxRuns: number;
  readonly runsPartition: number;
  readonly piece: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly runs: readonly PartRun[];
}

export type AssembleInput =
  | ({ readonly kind: "part"; readonly offset: number } & AssemblePart)
  | { readonly kind: "watermark"; readonly offset: number; readonly runsPartition: number; readonly streamTime: number }
  /** The runs topic's partition count as last fetched; a smaller count than one seen is ignored. */
  | { readonly kind: "partitions"; readonly count: number };

/** A part that adds nothing: its window was already emitted, or the window already holds this part id. */
export interface DuplicatePart {
  readonly kind: "duplicate_part";
  readonly reason: "window_completed" | "part_seen";
  readonly offset: number;
  readonly partId: string;
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly runsPartition: number;
  readonly piece: number;
  readonly startMs: number;
  readonly endMs: number;
}

export type AssembleOutcome = MergedChunk | DuplicatePart;

interface StoredPart {
  readonly offset: number;
  readonly runsPartition: number;
  readonly piece: number;
  readonly runs: readonly PartRun[];
}

interface OpenMergedWindow {
  /** From the window's first part (every part of a rule version carries the same). */
  readonly spec: MergedWindowSpec;
  readonly parts: StoredPart[];
  readonly partIds: Set<string>;
}

export interface AssembleState {
  /** N: runs partitions a window waits for. Only grows. */
  partitions: number;
  /** Highest watermark per runs partition, including partitions not yet counted in N. */
  readonly watermarks: Map<number, number>;
  /** Minimum watermark over p < N; -Infinity while any is unknown (or N is 0). */
  low: number;
  /** M: the highest `low` so far. */
  floor: number;
  /** Open windows by `ruleId/version/startMs`. */
  readonly open: Map<string, OpenMergedWindow>;
  /** The earliest end in `open` (Infinity when empty): a `low` below it completes nothing. */
  earliestEnd: number;
  /** The offset after the last message folded; undefined before the first. */
  nextOffset: number | undefined;
}

export function createAssembleState(): AssembleState {
  return {
    partitions: 0,
    watermarks: new Map(),
    low: Number.NEGATIVE_INFINITY,
    floor: Number.NEGATIVE_INFINITY,
    open: new Map(),
    earliestEnd: Number.POSITIVE_INFINITY,
    nextOffset: undefined,
  };
}

function lowestWatermark(state: AssembleState): number {
  if (state.partitions === 0) return Number.NEGATIVE_INFINITY;
  let low = Number.POSITIVE_INFINITY;
  for (let p = 0; p < state.partitions; p++) {
    const w = state.watermarks.get(p);
    if (w === undefined) return Number.NEGATIVE_INFINITY;
    if (w < low) low = w;
  }
  return low;
}

/** Emits, in a fixed order, every open window the watermarks now complete. */
function completeDue(state: AssembleState, out: AssembleOutcome[]): void {
  state.low = lowestWatermark(state);
  if (state.low > state.floor) state.floor = state.low;
  if (state.low < state.earliestEnd) return;
  const due: OpenMergedWindow[] = [];
  let earliest = Number.POSITIVE_INFINITY;
  for (const [key, w] of state.open) {
    if (w.spec.endMs <= state.low) {
      due.push(w);
      state.open.delete(key);
    } else if (w.spec.endMs < earliest) {
      earliest = w.spec.endMs;
    }
  }
  state.earliestEnd = earliest;
  due.sort(
    ({ spec: a }, { spec: b }) =>
      a.endMs - b.endMs ||
      (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0) ||
      a.ruleVersion - b.ruleVersion ||
      a.startMs - b.startMs,
  );
  for (const w of due) out.push(...chunkWindow(w.spec, mergeParts(w.parts)));
}

function duplicate(input: AssemblePart & { readonly offset: number }, reason: DuplicatePart["reason"]): DuplicatePart {
  return {
    kind: "duplicate_part",
    reason,
    offset: input.offset,
    partId: input.partId,
    ruleId: input.ruleId,
    ruleVersion: input.ruleVersion,
    runsPartition: input.runsPartition,
    piece: input.piece,
    startMs: input.startMs,
    endMs: input.endMs,
  };
}

function addPart(state: AssembleState, input: AssemblePart & { readonly offset: number }): DuplicatePart | undefined {
  if (input.endMs <= state.floor) return duplicate(input, "window_completed");
  const key = `${input.ruleId}/${input.ruleVersion}/${input.startMs}`;
  let w = state.open.get(key);
  if (w?.partIds.has(input.partId)) return duplicate(input, "part_seen");
  if (!w) {
    const { ruleId, ruleVersion, tenantId, maxRuns, startMs, endMs } = input;
    w = { spec: { ruleId, ruleVersion, tenantId, maxRuns, startMs, endMs }, parts: [], partIds: new Set() };
    state.open.set(key, w);
    if (endMs < state.earliestEnd) state.earliestEnd = endMs;
  }
  w.partIds.add(input.partId);
  w.parts.push({ offset: input.offset, runsPartition: input.runsPartition, piece: input.piece, runs: input.runs });
  return undefined;
}

/** What a step that emits nothing returns: most steps (shared, so they allocate nothing). */
const NOTHING: readonly AssembleOutcome[] = Object.freeze([]);

/**
 * Folds one input into the windows partition's state and returns what it produced: the chunks of the
 * windows it completed, or the part it dropped as a duplicate. A part never completes a window.
 */
export function assembleStep(state: AssembleState, input: AssembleInput): readonly AssembleOutcome[] {
  switch (input.kind) {
    case "part": {
      state.nextOffset = input.offset + 1;
      const dropped = addPart(state, input);
      return dropped ? [dropped] : NOTHING;
    }
    case "watermark": {
      state.nextOffset = input.offset + 1;
      const previous = state.watermarks.get(input.runsPartition) ?? Number.NEGATIVE_INFINITY;
      // An older watermark (an evaluator refolding after a restart) says nothing new.
      if (input.streamTime <= previous) return NOTHING;
      state.watermarks.set(input.runsPartition, input.streamTime);
      if (input.runsPartition >= state.partitions) return NOTHING;
      break;
    }
    case "partitions": {
      if (input.count <= state.partitions) return NOTHING;
      state.partitions = input.count;
      break;
    }
  }
  const out: AssembleOutcome[] = [];
  completeDue(state, out);
  return out.length > 0 ? out : NOTHING;
}

/**
 * The offset to commit: the first part of the oldest open window, or the offset after the last message
 * when no window is open (undefined before the first message). Every window still open at this point,
 * and every window that opens later, has all its parts at or after it.
 */
export function assembleCommitOffset(state: AssembleState): number | undefined {
  let oldest: number | undefined;
  for (const w of state.open.values()) {
    // A window's parts are kept in log order: its first is its lowest.
    const first = w.parts[0]?.offset;
    if (first !== undefined && (oldest === undefined || first < oldest)) oldest = first;
  }
  return oldest ?? state.nextOffset;
}

/**
 * The earliest end among open windows (undefined when none): a watermark below it completes nothing,
 * so a shell need only refresh the partition count before folding a watermark at or past it.
 */
export function nextCompletionEnd(state: AssembleState): number | undefined {
  return state.open.size === 0 ? undefined : state.earliestEnd;
}
