/**
 * What the evaluator stores in a partition's committed-offset metadata, so that a restart refolds
 * exactly: `s` the stream time, `p` the next offset to process (everything below it was processed and
 * its windows acknowledged by Kafka).
 */
export interface Checkpoint {
  readonly streamTime: number;
  readonly processedUpTo: number;
}

export function encodeCheckpoint(c: Checkpoint): string {
  return JSON.stringify({ v: 1, s: c.streamTime, p: c.processedUpTo });
}

/** Undefined for missing or foreign metadata: the caller then starts without suppression. */
export function decodeCheckpoint(metadata: string | null | undefined): Checkpoint | undefined {
  if (!metadata) return undefined;
  try {
    const parsed = JSON.parse(metadata) as { v?: unknown; s?: unknown; p?: unknown };
    if (parsed.v !== 1 || typeof parsed.s !== "number" || typeof parsed.p !== "number") return undefined;
    if (!Number.isFinite(parsed.s) || !Number.isInteger(parsed.p) || parsed.p < 0) return undefined;
    return { streamTime: parsed.s, processedUpTo: parsed.p };
  } catch {
    return undefined;
  }
}
