import {
  assembleCheckpoint,
  assembleCommitOffset,
  assembleStep,
  createAssembleState,
  decodeAssembleCheckpoint,
  encodeAssembleCheckpoint,
  nextCompletionEnd,
  restoreAssembleState,
  type AssembleState,
  type DuplicatePart,
} from "@runhooks/rules";
import { completedWindow, type CompletedWindow, type PartInput, type WatermarkInput } from "./window-batch.js";

/**
 * One windows partition's assembly (DESIGN.md §5), as the windows consumer keeps it between batches.
 * Pure: where an assigned partition starts, which batch needs the runs topic's partition count first,
 * what folding a batch completes, and what to commit after it.
 */
export interface PartitionAssembly {
  /** `seeking`: batches fetched before the seek to `from` are skipped. */
  phase: "seeking" | "active";
  /** The offset the fold goes on from: messages before it were folded (or are before the checkpoint). */
  from: number;
  readonly state: AssembleState;
  /** The trace context of each open window's first part that carried one, by `rule/version/start`. */
  readonly traces: Map<string, string>;
}

/** The group's committed offset of a partition (-1: none) and its metadata. */
export interface Committed {
  readonly offset: number;
  readonly metadata: string | null | undefined;
}

/**
 * Where a newly assigned partition's assembly starts. With a committed offset: from it, with the state
 * its checkpoint restores (nothing to restore from metadata that is not a checkpoint), seeking there
 * unless the first batch starts at it. Without one: from the first batch, from nothing.
 */
export function startAssembly(committed: Committed, firstOffset: number): PartitionAssembly {
  if (committed.offset < 0)
    return { phase: "active", from: firstOffset, state: createAssembleState(), traces: new Map() };
  const checkpoint = decodeAssembleCheckpoint(committed.metadata);
  return {
    phase: committed.offset === firstOffset ? "active" : "seeking",
    from: committed.offset,
    state: checkpoint === undefined ? createAssembleState() : restoreAssembleState(checkpoint),
    traces: new Map(),
  };
}

/**
 * Whether the runs topic's partition count must be fetched before folding these inputs: when one of
 * their watermarks could complete a window (it reaches the earliest end of a window open now or opened
 * by the batch). A partition created before a window's end exists by the time a watermark past that
 * end was read, so the count fetched after reading the batch counts it.
 */
export function needsPartitionCount(state: AssembleState, inputs: readonly (PartInput | WatermarkInput)[]): boolean {
  let earliest = nextCompletionEnd(state) ?? Number.POSITIVE_INFINITY;
  for (const input of inputs) {
    if (input.kind === "part") {
      if (input.endMs > state.floor && input.endMs < earliest) earliest = input.endMs;
    } else if (input.streamTime >= earliest) {
      return true;
    }
  }
  return false;
}

export interface FoldedBatch {
  /** The chunks of the windows the batch completed, in the assembler's order. */
  readonly windows: CompletedWindow[];
  /** Parts that added nothing (a window already completed, or a part already held). */
  readonly duplicates: DuplicatePart[];
}

const windowKey = (ruleId: string, ruleVersion: number, startMs: number) => `${ruleId}/${ruleVersion}/${startMs}`;

/**
 * Folds a batch's inputs into the partition's assembly, the runs topic's partition count first when
 * one was fetched; `traceparents` are the parts' trace contexts by input. A bundle's parts share its
 * offset: the batch's inputs from `a.from` on are folded, then `a.from` is past the last.
 */
export function foldBatch(
  a: PartitionAssembly,
  inputs: readonly (PartInput | WatermarkInput)[],
  traceparents: ReadonlyMap<PartInput, string>,
  partitions: number | undefined,
): FoldedBatch {
  const windows: CompletedWindow[] = [];
  const duplicates: DuplicatePart[] = [];
  const take = (outcomes: ReturnType<typeof assembleStep>) => {
    for (const o of outcomes) {
      if (o.kind === "duplicate_part") {
        duplicates.push(o);
        continue;
      }
      const key = windowKey(o.ruleId, o.ruleVersion, o.startMs);
      windows.push(completedWindow(o, a.traces.get(key)));
      if (o.chunkIndex === o.chunkCount - 1) a.traces.delete(key);
    }
  };
  if (partitions !== undefined) take(assembleStep(a.state, { kind: "partitions", count: partitions }));
  const from = a.from;
  for (const input of inputs) {
    if (input.offset < from) continue;
    const outcomes = assembleStep(a.state, input);
    a.from = input.offset + 1;
    if (input.kind === "part" && outcomes.length === 0) {
      const key = windowKey(input.ruleId, input.ruleVersion, input.startMs);
      const traceparent = traceparents.get(input);
      if (traceparent !== undefined && !a.traces.has(key)) a.traces.set(key, traceparent);
    }
    take(outcomes);
  }
  return { windows, duplicates };
}

/**
 * What to commit once the batch's completed windows are stored: the offset before which no open window
 * has a part (past the batch's end, `batchEnd`, when none is open: ticks and invalid messages carry
 * nothing to come back for), and the checkpoint the assembly resumes from there.
 */
export function commitPoint(
  state: AssembleState,
  batchEnd: number,
): { readonly offset: number; readonly metadata: string } {
  const open = nextCompletionEnd(state) !== undefined;
  const offset = open ? (assembleCommitOffset(state) ?? batchEnd) : batchEnd;
  return { offset, metadata: encodeAssembleCheckpoint(assembleCheckpoint(state)) };
}
