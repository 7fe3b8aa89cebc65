import type { Admin } from "kafkajs";

/**
 * Offsets of a past range of a topic, by time (Kafka's offsets-for-times): what a backfill reads, and
 * whether the topic still holds all of it (DESIGN.md §4 "Backfills").
 */

/** Per partition, the first offset whose append time is at or after `timeMs` (the end offset when none is). */
export async function offsetsAtTime(admin: Admin, topic: string, timeMs: number): Promise<Map<number, number>> {
  const rows = await admin.fetchTopicOffsetsByTimestamp(topic, timeMs);
  return new Map(rows.map((r) => [r.partition, Number(r.offset)]));
}

/**
 * The partitions that may have lost runs appended at or after `from` to retention: their log starts
 * after offset 0, and the first offset at or after `from` is the first one still held (so what came
 * before it, deleted, may have been appended after `from` too). Pure.
 */
export function partitionsTruncatedAt(
  lows: ReadonlyMap<number, number>,
  atFrom: ReadonlyMap<number, number>,
): number[] {
  const out: number[] = [];
  for (const [partition, low] of lows) if (low > 0 && atFrom.get(partition) === low) out.push(partition);
  return out.sort((a, b) => a - b);
}

export type LogRangeCheck =
  | { readonly kind: "held" }
  /** `earliestMs`: the earliest time from which the topic holds every message. */
  | { readonly kind: "truncated"; readonly earliestMs: number };

/**
 * Whether the topic holds every message appended since `fromMs`. When it does not, the earliest time
 * it does: just after the append time of the first message each truncated partition still holds,
 * found by bisecting offsets-for-times (about 40 requests per truncated partition; only on refusal).
 */
export async function checkLogRange(
  admin: Admin,
  topic: string,
  fromMs: number,
  nowMs: number,
): Promise<LogRangeCheck> {
  const ends = await admin.fetchTopicOffsets(topic);
  const lows = new Map(ends.map((e) => [e.partition, Number(e.low)]));
  const truncated = partitionsTruncatedAt(lows, await offsetsAtTime(admin, topic, fromMs));
  if (truncated.length === 0) return { kind: "held" };
  let earliestMs = fromMs;
  for (const partition of truncated) {
    const low = lows.get(partition)!;
    // The largest t whose first offset at or after t is still `low`: the append time of `low`.
    let lo = fromMs;
    let hi = nowMs + 1;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if ((await offsetsAtTime(admin, topic, mid)).get(partition) === low) lo = mid;
      else hi = mid;
    }
    earliestMs = Math.max(earliestMs, lo + 1);
  }
  return { kind: "truncated", earliestMs };
}
