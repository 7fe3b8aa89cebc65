import { createAssembleState, type AssembleState } from "./assemble.js";

/**
 * What delivery stores in a windows partition's committed-offset metadata, with the offset from
 * `assembleCommitOffset`: `floor` (M) the highest minimum watermark reached, `partitions` (N) the runs
 * partitions counted. Stored as `{"v":1,"m":M,"n":N}`, `m` null while no watermark floor exists.
 */
export interface AssembleCheckpoint {
  readonly floor: number;
  readonly partitions: number;
}

export function assembleCheckpoint(state: AssembleState): AssembleCheckpoint {
  return { floor: state.floor, partitions: state.partitions };
}

export function encodeAssembleCheckpoint(c: AssembleCheckpoint): string {
  return JSON.stringify({ v: 1, m: Number.isFinite(c.floor) ? c.floor : null, n: c.partitions });
}

/** Undefined for missing or foreign metadata: the caller then starts from an empty state. */
export function decodeAssembleCheckpoint(metadata: string | null | undefined): AssembleCheckpoint | undefined {
  if (!metadata) return undefined;
  try {
    const parsed = JSON.parse(metadata) as { v?: unknown; m?: unknown; n?: unknown };
    if (typeof parsed !== "object" || parsed === null || parsed.v !== 1) return undefined;
    const { m, n } = parsed;
    if (!(m === null || (typeof m === "number" && Number.isFinite(m)))) return undefined;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0) return undefined;
    return { floor: m ?? Number.NEGATIVE_INFINITY, partitions: n };
  } catch {
    return undefined;
  }
}

/**
 * The state to resume with when reading again from the committed offset: every runs partition p < N
 * at the floor M, so windows with end <= M (all emitted before the checkpoint) are dropped as
 * re-read parts, and the rest complete as before. Exact, because every window ending after M was open
 * at the checkpoint or opened later, so all its parts lie at or after the committed offset; only the
 * moment of completion may come later, at each partition's next watermark above M.
 */
export function restoreAssembleState(c: AssembleCheckpoint): AssembleState {
  const state = createAssembleState();
  state.partitions = c.partitions;
  state.floor = c.floor;
  if (Number.isFinite(c.floor)) for (let p = 0; p < c.partitions; p++) state.watermarks.set(p, c.floor);
  state.low = c.partitions > 0 ? c.floor : Number.NEGATIVE_INFINITY;
  return state;
}
