import { mergedWindowId } from "./merged-window-id.js";

/**
 * One run of a window part: its id, its JSON exactly as the runs topic held it, and the stream time
 * (ms) at which its runs partition read it.
 */
export interface PartRun {
  readonly runId: string;
  readonly json: Uint8Array;
  readonly time: number;
}

/** What the merge needs of a part: where its runs came from, and the runs in the part's order. */
export interface MergeablePart {
  readonly runsPartition: number;
  readonly piece: number;
  readonly runs: readonly PartRun[];
}

/** The window a set of parts belongs to, as the chunk ids and the receiver see it. */
export interface MergedWindowSpec {
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly tenantId: string;
  readonly maxRuns: number;
  readonly startMs: number;
  readonly endMs: number;
}

/** One POST's worth of a completed window: at most `max_runs` runs, `chunkIndex` of `chunkCount`. */
export interface MergedChunk {
  readonly kind: "chunk";
  readonly windowId: string;
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly tenantId: string;
  readonly startMs: number;
  readonly endMs: number;
  /** 0-based. */
  readonly chunkIndex: number;
  readonly chunkCount: number;
  readonly runs: readonly PartRun[];
}

interface Placed {
  readonly run: PartRun;
  readonly partition: number;
  readonly piece: number;
  readonly position: number;
}

function byPlace(a: Placed, b: Placed): number {
  return a.run.time - b.run.time || a.partition - b.partition || a.piece - b.piece || a.position - b.position;
}

/**
 * The runs of a window's parts in one order whatever order the parts arrived in: by run time, then runs
 * partition, then piece and position in the piece (a partition's pieces are consecutive stretches of
 * its stream). A run id is kept once, at its first place in that order: the runs log is at least once,
 * and a retried run may have landed in another partition.
 */
export function mergeParts(parts: readonly MergeablePart[]): PartRun[] {
  const placed: Placed[] = [];
  for (const part of parts) {
    for (const [position, run] of part.runs.entries()) {
      placed.push({ run, partition: part.runsPartition, piece: part.piece, position });
    }
  }
  placed.sort(byPlace);
  const seen = new Set<string>();
  const runs: PartRun[] = [];
  for (const { run } of placed) {
    if (seen.has(run.runId)) continue;
    seen.add(run.runId);
    runs.push(run);
  }
  return runs;
}

/**
 * A window's merged runs cut into ⌈n / max_runs⌉ chunks of exactly `max_runs` (the last one smaller),
 * each with its deterministic id. No runs, no chunks: an empty window sends nothing.
 */
export function chunkWindow(spec: MergedWindowSpec, runs: readonly PartRun[]): MergedChunk[] {
  const chunkCount = Math.ceil(runs.length / spec.maxRuns);
  const chunks: MergedChunk[] = [];
  for (let chunkIndex = 0; chunkIndex < chunkCount; chunkIndex++) {
    chunks.push({
      kind: "chunk",
      windowId: mergedWindowId({
        ruleId: spec.ruleId,
        ruleVersion: spec.ruleVersion,
        startMs: spec.startMs,
        chunk: chunkIndex,
      }),
      ruleId: spec.ruleId,
      ruleVersion: spec.ruleVersion,
      tenantId: spec.tenantId,
      startMs: spec.startMs,
      endMs: spec.endMs,
      chunkIndex,
      chunkCount,
      runs: runs.slice(chunkIndex * spec.maxRuns, (chunkIndex + 1) * spec.maxRuns),
    });
  }
  return chunks;
}
