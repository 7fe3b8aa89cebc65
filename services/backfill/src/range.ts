import type { BackfillOffsets } from "@runhooks/db";

/** Where each partition is read from and to; pure. */
export interface PartitionRange {
  readonly partition: number;
  /** The first offset of the backfill's range. */
  readonly start: number;
  /** Past the range: the first offset not judged. */
  readonly end: number;
  /** Where this run reads from: the start, or a resumed run's restart point. */
  readonly from: number;
}

/** The job's ranges; a resumed run starts at `restartAt` (offsets at the restart time), clamped to the range. */
export function partitionRanges(
  offsets: BackfillOffsets,
  restartAt: ReadonlyMap<number, number> | undefined,
): PartitionRange[] {
  return Object.entries(offsets)
    .map(([p, [start, end]]) => {
      const partition = Number(p);
      const at = restartAt?.get(partition) ?? start;
      return { partition, start, end, from: Math.min(end, Math.max(start, at)) };
    })
    .sort((a, b) => a.partition - b.partition);
}

/** The range as stored: `[start, end)` per partition, and how many messages it holds. */
export function rangeOffsets(
  starts: ReadonlyMap<number, number>,
  ends: ReadonlyMap<number, number>,
): { offsets: BackfillOffsets; total: number } {
  const offsets: Record<string, [number, number]> = {};
  let total = 0;
  for (const [partition, start] of starts) {
    const end = Math.max(start, ends.get(partition) ?? start);
    offsets[String(partition)] = [start, end];
    total += end - start;
  }
  return { offsets, total };
}

/** Messages read so far over every partition, by where each has got to. */
export function runsRead(ranges: readonly PartitionRange[], next: ReadonlyMap<number, number>): number {
  let n = 0;
  for (const r of ranges) n += Math.max(0, Math.min(r.end, next.get(r.partition) ?? r.from) - r.start);
  return n;
}
