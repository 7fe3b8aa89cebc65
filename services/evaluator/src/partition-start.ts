import {
  createFoldState,
  createTraceState,
  decodeCheckpoint,
  decodeTraceSnapshot,
  refoldFromTime,
  refoldOffset,
  restoreFromSnapshot,
  type Checkpoint,
  type Restore,
} from "@runhooks/rules";
import type { RunsConsumerContext } from "./consumer-context.js";
import { FLUSH_DEPTH } from "./cut-policy.js";
import { createFlushQueue } from "./flush-queue.js";
import { partitionStart, type PartitionState } from "./partition-state.js";
import { SNAPSHOT_BYTES } from "./trace-snapshots.js";
import { flushFailed } from "./publish-cut.js";

/**
 * A newly assigned partition's state, from its checkpoint (DESIGN.md §4): 1. read the committed offset
 * and its checkpoint; 2. without one, fold from the first batch on; 3. with one, wait until every rule
 * version in force up to it is known (they size the refold); 4. with the trace snapshot it names,
 * restore the open traces and refold only the windows, from S − W (and the snapshot's runs); without,
 * refold the trace prefix too, from S − W − 2H; seek there unless the batch starts at it.
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
    restore: undefined,
    snapshot: undefined,
    snapshotAt: Date.now(),
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
  const longestWindowMs = o.rules.book.longestWindowMs;
  const windowsFrom = checkpoint.streamTime - longestWindowMs;
  // 4.
  const restore = await restoreOf(ctx, partition, checkpoint);
  const horizonMs = restore === undefined ? o.rules.book.longestHorizonMs : 0;
  const from = refoldFromTime(checkpoint, longestWindowMs, horizonMs);
  const found = (await o.admin.fetchTopicOffsetsByTimestamp(topic, from)).find((p) => p.partition === partition);
  // -1: no message at or after that time.
  const atFrom = Number(found?.offset ?? -1);
  // With a snapshot, the lowest of S − W, the runs it names and its cut (the commit, held back by
  // candidates waiting out their horizon, may lie much further back); without, the commit too.
  const offset =
    restore === undefined
      ? refoldOffset(committedOffset, atFrom)
      : Math.min(
          atFrom < 0 ? restore.snapshot.processedUpTo : atFrom,
          restore.snapshot.needFrom ?? restore.snapshot.processedUpTo,
          restore.snapshot.processedUpTo,
        );
  const start = partitionStart(firstOffset, {
    offset,
    suppressBelow: Math.max(checkpoint.processedUpTo, restore?.snapshot.processedUpTo ?? 0),
    windowsFrom: restore === undefined ? windowsFrom : Number.NEGATIVE_INFINITY,
  });
  o.log("info", "partition assigned; refolding from checkpoint", {
    partition,
    streamTime: new Date(checkpoint.streamTime).toISOString(),
    refoldFrom: start.seekTarget,
    windowsFrom: new Date(windowsFrom).toISOString(),
    processedUpTo: checkpoint.processedUpTo,
    traceSnapshot:
      restore === undefined ? null : { upTo: restore.snapshot.processedUpTo, traces: restore.snapshot.traces.length },
  });
  if (start.phase === "seeking") ctx.consumer.seek({ topic, partition, offset: String(start.seekTarget) });
  if (restore === undefined) return { ...base, ...start };
  const { fold, traces } = restore.state;
  return { ...base, ...start, fold, traces, restore, snapshot: checkpoint.traces };
}

/** The open traces the checkpoint's snapshot holds, restored; undefined when there is none to use. */
async function restoreOf(ctx: RunsConsumerContext, partition: number, c: Checkpoint): Promise<Restore | undefined> {
  const { o } = ctx;
  if (c.traces === undefined || ctx.withoutSnapshot.delete(partition)) return undefined;
  const chunks = await o.snapshots.read(partition, c.traces);
  const snapshot = chunks === undefined ? undefined : decodeTraceSnapshot(chunks);
  if (snapshot === undefined || snapshot.processedUpTo !== c.traces.upTo) {
    o.counters.traceSnapshotsMissed++;
    o.log("warn", "no usable trace snapshot; refolding the trace horizon", { partition, upTo: c.traces.upTo });
    return undefined;
  }
  o.counters.traceSnapshotsRestored++;
  // An empty snapshot is written nowhere: it stands at its cut with nothing open.
  return restoreFromSnapshot(partition, snapshot, undefined, o.traceLimits, SNAPSHOT_BYTES);
}
