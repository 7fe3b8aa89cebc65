import { createFoldState, createTraceState, decodeCheckpoint, refoldFromTime, refoldOffset } from "@runhooks/rules";
import type { RunsConsumerContext } from "./consumer-context.js";
import { FLUSH_DEPTH } from "./cut-policy.js";
import { createFlushQueue } from "./flush-queue.js";
import { partitionStart, type PartitionState } from "./partition-state.js";
import { flushFailed } from "./publish-cut.js";

/**
 * A newly assigned partition's state, from its checkpoint (DESIGN.md §4): 1. read the committed offset
 * and its checkpoint; 2. without one, fold from the first batch on; 3. with one, wait until every rule
 * version in force up to it is known (they size the refold), find the refold's offset, and seek there
 * unless the batch starts at it.
 */
export async function startPartition(
  ctx: RunsConsumerContext,
  partition: number,
  firstOffset: number,
): Promise<PartitionState> {
  const { o, topic } = ctx;
  // 1.
  const committed = (await o.admin.fetchOffsets({ groupId: o.groupId, topics: [topic] }))
    .flatMap((t) => t.partitions)
    .find((p) => p.partition === partition);
  const committedOffset = committed && Number(committed.offset) >= 0 ? Number(committed.offset) : -1;
  const checkpoint = decodeCheckpoint(committed?.metadata);
  const base = {
    committedOffset,
    fold: createFoldState(partition),
    traces: createTraceState(o.traceLimits),
    lastReadAt: Date.now(),
    tickInFlight: false,
    lastWatermark: undefined,
    flushes: createFlushQueue(FLUSH_DEPTH, (error) => flushFailed(ctx, partition, error)),
  };
  // 2.
  if (checkpoint === undefined) {
    o.log("info", "partition assigned; no checkpoint, folding from the current position", { partition, firstOffset });
    return { ...base, ...partitionStart(firstOffset, undefined) };
  }
  // 3.
  await o.rules.waitPast(checkpoint.streamTime);
  const from = refoldFromTime(checkpoint, o.rules.book.longestWindowMs, o.rules.book.longestHorizonMs);
  const found = (await o.admin.fetchTopicOffsetsByTimestamp(topic, from)).find((p) => p.partition === partition);
  // -1: no message at or after that time.
  const start = partitionStart(firstOffset, {
    offset: refoldOffset(committedOffset, Number(found?.offset ?? -1)),
    suppressBelow: checkpoint.processedUpTo,
    windowsFrom: checkpoint.streamTime - o.rules.book.longestWindowMs,
  });
  o.log("info", "partition assigned; refolding from checkpoint", {
    partition,
    streamTime: new Date(checkpoint.streamTime).toISOString(),
    refoldFrom: start.seekTarget,
    windowsFrom: new Date(start.windowsFrom).toISOString(),
    processedUpTo: checkpoint.processedUpTo,
  });
  if (start.phase === "seeking") ctx.consumer.seek({ topic, partition, offset: String(start.seekTarget) });
  return { ...base, ...start };
}
