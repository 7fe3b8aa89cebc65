/** A backfill's checkpoint: `{"v":1,"m":M}`, every window ending at or before M stored. */
export interface BackfillCheckpoint {
  readonly floor: number;
}

export function encodeBackfillCheckpoint(floor: number): { v: 1; m: number | null } {
  return { v: 1, m: Number.isFinite(floor) ? floor : null };
}

/** Undefined: no checkpoint (start from the range's start). */
export function decodeBackfillCheckpoint(value: unknown): BackfillCheckpoint | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { v, m } = value as { v?: unknown; m?: unknown };
  if (v !== 1 || typeof m !== "number" || !Number.isFinite(m)) return undefined;
  return { floor: m };
}
