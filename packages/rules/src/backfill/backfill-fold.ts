import { createStreamState, streamStep, type StreamInput, type StreamState, type TraceLimits } from "../trace/index.js";
import {
  assembleStep,
  createAssembleState,
  restoreAssembleState,
  type AssembleState,
  type ClosedPart,
  type MergedChunk,
} from "../window/index.js";
import { backfillWindowId } from "./backfill-window-id.js";

/**
 * A backfill's fold (DESIGN.md §4 "Backfills"): the evaluator's fold of each runs partition (trace
 * fold, then window fold) and the assembler over all of them, in one process, with nothing between
 * them but memory. Each partition's closed parts go to the assembler, then its stream time as its
 * watermark, so the assembler's input contract holds (a watermark follows every part it covers), and
 * the merged windows are those the evaluators and delivery would have made of the same messages,
 * whatever order the partitions are read in. Only the ids differ (`backfillWindowId`).
 *
 * Pure and deterministic; the state is mutated in place, callers own it.
 */
export interface BackfillFold {
  readonly streams: Map<number, StreamState>;
  readonly assemble: AssembleState;
  readonly maxBytes: number | undefined;
  readonly traceLimits: TraceLimits | undefined;
}

export interface BackfillFoldOptions {
  /** Runs partitions 0..partitions-1, all of them: a window completes once each passed its end. */
  readonly partitions: number;
  /** Resuming: every window ending at or before it is stored already (the checkpoint's M). */
  readonly floor?: number | undefined;
  readonly maxBytes?: number | undefined;
  readonly traceLimits?: TraceLimits | undefined;
}

export function createBackfillFold(o: BackfillFoldOptions): BackfillFold {
  let assemble: AssembleState;
  if (o.floor === undefined || !Number.isFinite(o.floor)) {
    assemble = createAssembleState();
    assembleStep(assemble, { kind: "partitions", count: o.partitions });
  } else {
    assemble = restoreAssembleState({ floor: o.floor, partitions: o.partitions });
  }
  return { streams: new Map(), assemble, maxBytes: o.maxBytes, traceLimits: o.traceLimits };
}

function streamOf(f: BackfillFold, partition: number): StreamState {
  let s = f.streams.get(partition);
  if (s === undefined) {
    s = createStreamState(partition, f.maxBytes, f.traceLimits);
    f.streams.set(partition, s);
  }
  return s;
}

const NONE: readonly MergedChunk[] = Object.freeze([]);

function assembled(f: BackfillFold, partition: number, parts: readonly ClosedPart[]): readonly MergedChunk[] {
  let out: MergedChunk[] | undefined;
  for (const p of parts) {
    assembleStep(f.assemble, {
      kind: "part",
      offset: 0,
      partId: p.partId,
      ruleId: p.ruleId,
      ruleVersion: p.ruleVersion,
      tenantId: p.tenantId,
      maxRuns: p.maxRuns,
      runsPartition: p.partition,
      piece: p.piece,
      startMs: p.startMs,
      endMs: p.endMs,
      runs: p.runs,
    });
  }
  const streamTime = f.streams.get(partition)!.fold.streamTime;
  for (const o of assembleStep(f.assemble, { kind: "watermark", offset: 0, runsPartition: partition, streamTime })) {
    if (o.kind !== "chunk") continue;
    (out ??= []).push({
      ...o,
      windowId: backfillWindowId({
        ruleId: o.ruleId,
        ruleVersion: o.ruleVersion,
        startMs: o.startMs,
        chunk: o.chunkIndex,
      }),
    });
  }
  return out ?? NONE;
}

/** Folds one message of a runs partition; returns the chunks of the windows it completed, in order. */
export function backfillStep(f: BackfillFold, partition: number, input: StreamInput): readonly MergedChunk[] {
  const s = streamOf(f, partition);
  const parts = streamStep(s, input);
  // Nothing closed and no new watermark: nothing can complete (most messages).
  if (parts.length === 0 && s.fold.streamTime <= (f.assemble.watermarks.get(partition) ?? Number.NEGATIVE_INFINITY))
    return NONE;
  return assembled(f, partition, parts);
}

/**
 * The partition's range is read to its end: every window it holds closes (stream time passes every
 * end), and its watermark no longer holds anything back. A trace-aware candidate still waiting for its
 * trace is dropped, as at its horizon.
 */
export function backfillEnd(f: BackfillFold, partition: number, offset: number): readonly MergedChunk[] {
  const s = streamOf(f, partition);
  const parts = streamStep(s, { kind: "time", offset, time: Number.POSITIVE_INFINITY });
  return assembled(f, partition, parts);
}

/** The floor M to checkpoint: every window ending at or before it has been completed. */
export function backfillFloor(f: BackfillFold): number {
  return f.assemble.floor;
}

/**
 * Where a resumed backfill reads each partition from: the first message at or after this time (and not
 * before the range's start). Every window ending after M started after M − W, and what decides a
 * trace-aware candidate joining it was read less than 2H before (DESIGN.md §4, "Restart"); a window
 * ending at or before M was stored before the checkpoint and is dropped by the restored assembler.
 */
export function backfillRestartTime(floor: number, longestWindowMs: number, longestHorizonMs: number): number {
  return floor - longestWindowMs - 2 * longestHorizonMs;
}

/** Backfill progress as shown: seconds left at the rate so far; undefined before there is a rate. */
export function backfillEtaSeconds(runsRead: number, runsTotal: number, elapsedMs: number): number | undefined {
  if (runsRead <= 0 || elapsedMs <= 0) return undefined;
  const left = Math.max(0, runsTotal - runsRead);
  return Math.ceil((left * elapsedMs) / runsRead / 1000);
}
