import { checkpointMetadata } from "@runhooks/rules";
import kafkajs from "kafkajs";
import type { RunsConsumerContext } from "./consumer-context.js";
import type { Cut } from "./pending-cut.js";
import { restartOffset, type PartitionState } from "./partition-state.js";
import { PARTITION_BUDGET_BYTES, SEND_BUDGET_BYTES, byteBudgetChunks } from "./send-chunks.js";
import { writeSnapshot } from "./trace-snapshots.js";
import { watermarkMessages } from "./watermark.js";

const { CompressionTypes } = kafkajs;

const REBALANCE_ERRORS = new Set([
  "UNKNOWN_MEMBER_ID",
  "REBALANCE_IN_PROGRESS",
  "ILLEGAL_GENERATION",
  "NOT_COORDINATOR",
]);

function isRebalance(error: unknown): boolean {
  const type = (error as { type?: unknown }).type;
  return typeof type === "string" && REBALANCE_ERRORS.has(type);
}

/**
 * One flush (DESIGN.md §4): 1. publishes a cut's parts, dead letters and rule errors; 2. once Kafka
 * acknowledged them, the partition's watermark when one is due; 3. its trace snapshot when it took
 * one; 4. commits the cut's checkpoint, naming the last snapshot written. Neither 3 nor 4 while the
 * cut lies below the checkpoint the fold refolds from.
 * Skipped once the partition's fold was dropped. Runs on the partition's flush queue, which stops at
 * the first one that throws.
 */
export async function publishCut(
  ctx: RunsConsumerContext,
  partition: number,
  s: PartitionState,
  cut: Cut,
): Promise<void> {
  const { o } = ctx;
  // Dropped by a rebalance or a failure: whoever folds the partition next re-emits these parts.
  if (ctx.states.get(partition) !== s) return cut.sent?.();
  // 1.
  try {
    // Snappy (native, packages/kafka): windows shrink ~5x for ~10 µs per 20 KB window on this thread.
    // Measured per window against gzip level 1 on libuv's pool: ~40% of gzip's CPU here (encoding and
    // checksumming included) and less for the broker, which decompresses every batch to validate it.
    for (const chunk of byteBudgetChunks(cut.out, PARTITION_BUDGET_BYTES, SEND_BUDGET_BYTES)) {
      await o.producer.sendBatch({ topicMessages: chunk, acks: -1, compression: CompressionTypes.Snappy });
    }
    cut.sent?.();
  } catch (error) {
    cut.sent?.(error);
    throw error;
  }
  o.counters.windowsEmitted += cut.partCount;
  if (ctx.states.get(partition) !== s) return;
  // 2. After the parts it covers, in every windows partition: what makes the watermark true.
  if (cut.watermark !== undefined) await sendWatermark(ctx, partition, cut.watermark);
  if (ctx.states.get(partition) !== s) return;
  // Not while refolding below the checkpoint it refolds from: that checkpoint (and the snapshot it
  // names) stays, so a committed stream time never decreases and no later refold starts before the
  // rule versions kept (DESIGN.md §3).
  if (cut.checkpoint.processedUpTo < s.suppressBelow) return;
  // 3. Before the commit that names it: a crash between the two leaves the older pair.
  if (cut.snapshot !== undefined) {
    const started = performance.now();
    const { upTo, chunks } = cut.snapshot;
    s.snapshot = await writeSnapshot(o.producer, o.topics.traces, partition, upTo, chunks);
    if (chunks.length > 0) {
      o.counters.traceSnapshotsWritten++;
      for (const c of chunks) o.counters.traceSnapshotBytes += Buffer.byteLength(c);
    }
    o.counters.traceSnapshotTakeMs += cut.snapshot.tookMs;
    o.counters.traceSnapshotWriteMs += performance.now() - started;
    if (ctx.states.get(partition) !== s) return;
  }
  // 4.
  const { metadata, snapshotNamed } = checkpointMetadata({ ...cut.checkpoint, traces: s.snapshot });
  if (s.snapshot !== undefined && !snapshotNamed) {
    // Too many chunks to name within the commit's metadata limit: no later commit names it either.
    o.log("warn", "a trace snapshot is too large to name in a commit; a restart will refold the horizon", {
      partition,
      chunks: s.snapshot.offsets.length,
    });
    o.counters.traceSnapshotsUnnamed++;
    s.snapshot = undefined;
  }
  try {
    await ctx.consumer.commitOffsets([{ topic: ctx.topic, partition, offset: String(cut.commitAt), metadata }]);
  } catch (error) {
    if (!isRebalance(error)) throw error;
    // We lost the partition while working on it. What we published is safe: the next owner refolds
    // from the last checkpoint and re-emits those parts identically (the assembler drops them).
    o.log("warn", "partition moved during a batch; leaving it to its new owner", { partition, error: String(error) });
    if (ctx.states.get(partition) === s) ctx.states.delete(partition);
    return;
  }
  s.committedOffset = cut.commitAt;
  o.tracing?.forget(partition, cut.commitAt);
}

/** The watermark (p, S) to every partition of the windows topic; throws (failing the flush) when their count is unknown. */
async function sendWatermark(ctx: RunsConsumerContext, partition: number, streamTime: number): Promise<void> {
  let count = ctx.windowsTo.count();
  if (count === undefined) {
    await ctx.windowsTo.refresh();
    count = ctx.windowsTo.count();
    if (count === undefined)
      throw new Error(`cannot send a watermark: the partitions of ${ctx.o.topics.windows} are unknown`);
  }
  await ctx.o.producer.send({
    topic: ctx.o.topics.windows,
    acks: -1,
    messages: watermarkMessages(partition, streamTime, count),
  });
  ctx.o.counters.watermarksSent++;
}

/**
 * A flush failed: the fold has moved past parts Kafka did not take. Later flushes of that fold never
 * run (FlushQueue); the partition starts over from its checkpoint, which the seek guarantees even if
 * no other message comes, and the refold publishes those parts again.
 */
export function flushFailed(ctx: RunsConsumerContext, partition: number, error: unknown): void {
  const state = ctx.states.get(partition);
  ctx.o.log("error", "could not publish or commit; refolding the partition from its checkpoint", {
    partition,
    error: String(error),
  });
  ctx.failure ??= error instanceof Error ? error : new Error(String(error));
  // The state whose queue failed is the current one, or was already dropped (rebalance): then its
  // next owner refolds anyway.
  if (state === undefined || !state.flushes.failed) return;
  ctx.states.delete(partition);
  if (!ctx.stopping) ctx.consumer.seek({ topic: ctx.topic, partition, offset: String(restartOffset(state)) });
}
