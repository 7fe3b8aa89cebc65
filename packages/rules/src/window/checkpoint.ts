/**
 * What the evaluator stores in a partition's committed-offset metadata, so that a restart refolds
 * exactly: `s` the stream time, `p` the next offset to process (everything below it was processed and
 * its windows acknowledged by Kafka), and `t` the trace snapshot it pairs with (DESIGN.md §4, restart).
 */
export interface Checkpoint {
  readonly streamTime: number;
  readonly processedUpTo: number;
  readonly traces?: SnapshotRef | undefined;
}

/**
 * A trace snapshot written before the commit: its cut `upTo` (at or below the checkpoint's, whose
 * commit it was written before) and the offsets of its chunks on the traces topic, in order; none when
 * it is empty (nothing open: nothing written).
 */
export interface SnapshotRef {
  readonly upTo: number;
  readonly offsets: readonly number[];
}

export function encodeCheckpoint(c: Checkpoint): string {
  const base = { v: 1, s: c.streamTime, p: c.processedUpTo };
  return JSON.stringify(c.traces === undefined ? base : { ...base, t: [c.traces.upTo, c.traces.offsets] });
}

const isOffset = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0;

/** Undefined for missing or foreign metadata: the caller then starts without suppression. */
export function decodeCheckpoint(metadata: string | null | undefined): Checkpoint | undefined {
  if (!metadata) return undefined;
  try {
    const parsed = JSON.parse(metadata) as { v?: unknown; s?: unknown; p?: unknown; t?: unknown };
    if (parsed.v !== 1 || typeof parsed.s !== "number" || typeof parsed.p !== "number") return undefined;
    if (!Number.isFinite(parsed.s) || !isOffset(parsed.p)) return undefined;
    const c = { streamTime: parsed.s, processedUpTo: parsed.p };
    const t = parsed.t;
    // A reference that is not one is ignored: the restart then refolds the horizon.
    if (!Array.isArray(t) || t.length !== 2 || !isOffset(t[0]) || !Array.isArray(t[1]) || !t[1].every(isOffset))
      return c;
    return { ...c, traces: { upTo: t[0], offsets: t[1] } };
  } catch {
    return undefined;
  }
}
