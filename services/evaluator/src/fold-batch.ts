import { finishRestore, streamPrefixStep, streamStep, windowRefoldStep, type ClosedPart } from "@runhooks/rules";
import { refuseForeignBatch } from "@runhooks/kafka";
import type { EachBatchPayload, KafkaMessage } from "kafkajs";
import type { RunsConsumerContext } from "./consumer-context.js";
import { CHECK_EVERY, cutDue } from "./cut-policy.js";
import { deadLetterMessage } from "./dead-letter.js";
import { isTick } from "./headers.js";
import { classifyMessage, foldInputOf, type MessageClass } from "./message-class.js";
import { startPartition } from "./partition-start.js";
import { followsSeek, inTracePrefix, type PartitionState } from "./partition-state.js";
import { addPart, createPendingCut, takeCut, type PendingCut } from "./pending-cut.js";
import { publishCut } from "./publish-cut.js";
import type { RunTrace } from "./tracing.js";
import { ownedRunBytes, type PendingPart } from "./part-message.js";
import { EVALUATOR_GROUP_VARIABLE } from "./group.js";

/** One fetched batch being folded into its partition's fold. */
interface BatchFold {
  readonly ctx: RunsConsumerContext;
  readonly payload: EachBatchPayload;
  readonly partition: number;
  readonly state: PartitionState;
  /** What the batch read since its last cut. */
  readonly pending: PendingCut;
  /** Within a long batch the group membership needs it; kafkajs heartbeats after each batch. */
  readonly heartbeat: () => Promise<void>;
}

/**
 * Folds one batch of the runs topic (kafkajs' `eachBatch`): 0. a batch of another topic is refused
 * (thrown, never folded nor committed); 1. a flush that failed since the last batch fails this one;
 * 2. nothing is folded once stopping; 3. the partition's fold is started from its checkpoint on its
 * first batch (which takes it off the unstarted partitions), and batches fetched before its seek are
 * skipped; 4. each message is folded, cutting when due; 5. what remains is cut.
 */
export async function foldBatch(ctx: RunsConsumerContext, payload: EachBatchPayload): Promise<void> {
  // 0. A backstop (batch-topic.ts): kafkajs drops another topic's partitions before fetching them
  // (watchUnsubscribedTopics logs it), so no such batch is expected here.
  refuseForeignBatch(
    { batchTopic: payload.batch.topic, topic: ctx.topic, groupId: ctx.o.groupId, variable: EVALUATOR_GROUP_VARIABLE },
    ctx.o.log,
  );
  // 1. Thrown here, kafkajs retries or crashes as it would for the flush.
  if (ctx.failure !== undefined) {
    const error = ctx.failure;
    ctx.failure = undefined;
    throw error;
  }
  // 2.
  if (ctx.stopping) return;
  const first = payload.batch.messages[0];
  if (first === undefined) return;
  // 3.
  const partition = payload.batch.partition;
  ctx.unstarted.delete(partition);
  const state = await foldOf(ctx, partition, Number(first.offset));
  if (state === undefined) return;
  // 4.
  const b: BatchFold = {
    ctx,
    payload,
    partition,
    state,
    pending: createPendingCut(Date.now()),
    heartbeat: () => payload.heartbeat(),
  };
  if (!(await foldMessages(b))) return;
  // 5.
  state.lastReadAt = Date.now();
  await cut(b);
}

/** The partition's fold, started on its first batch; undefined while it waits for its seek. */
async function foldOf(
  ctx: RunsConsumerContext,
  partition: number,
  firstOffset: number,
): Promise<PartitionState | undefined> {
  let state = ctx.states.get(partition);
  if (state === undefined) {
    state = await startPartition(ctx, partition, firstOffset);
    ctx.states.set(partition, state);
    if (state.phase === "seeking") return undefined;
  }
  if (state.phase === "seeking") {
    if (!followsSeek(firstOffset, state)) return undefined;
    state.phase = "active";
  }
  return state;
}

/** Folds the batch's messages, cutting when due. False: the fold was dropped while it waited to cut. */
async function foldMessages(b: BatchFold): Promise<boolean> {
  const { ctx, payload, state, pending } = b;
  // Every CHECK_EVERY messages: whether to stop, and the clock.
  let unchecked = 0;
  let now = Date.now();
  for (const message of payload.batch.messages) {
    if (unchecked-- === 0) {
      if (!payload.isRunning() || payload.isStale() || ctx.stopping) break;
      unchecked = CHECK_EVERY - 1;
      now = Date.now();
      state.lastReadAt = now;
    }
    const offset = Number(message.offset);
    if (offset < state.nextOffset) continue;
    if (!restored(b, offset)) return false;
    await foldMessage(b, message, offset);
    if (cutDue(pending.messages, pending.windowBytes, now - pending.cutAt)) {
      if (!(await cut(b))) return false;
      await b.heartbeat();
    }
  }
  return true;
}

/** Classifies one message, records it, folds it, and keeps the parts it closed. */
async function foldMessage(b: BatchFold, message: KafkaMessage, offset: number): Promise<void> {
  const { ctx, state, pending } = b;
  const { o } = ctx;
  const time = Number(message.timestamp);
  // Every rule version in force at the message's time must be known before it is judged.
  if (time >= o.rules.watermark()) await o.rules.waitPast(time, b.heartbeat);
  const suppressed = offset < state.suppressBelow;
  // A run's span starts before it is judged, so that it covers the judging; ticks have none.
  const traced =
    o.tracing !== undefined && !isTick(message.headers) ? o.tracing.run(b.partition, message, suppressed) : undefined;
  const at = Math.max(time, state.fold.streamTime);
  // A restart's trace prefix (DESIGN.md §4): only the trace fold, with the trace-aware rules' verdicts.
  const prefix = inTracePrefix(state, offset, at);
  const c = classifyMessage(message, o.limits, o.rules.book, at, prefix);
  const { held, evicted } = state.traces;
  if (prefix) streamPrefixStep(state, foldInputOf(c, offset, time, message.value, true));
  else if (state.restore !== undefined) {
    // Below the snapshot's cut: the windows only; the run's bytes to what the snapshot named there.
    const json = state.restore.unread.has(offset) && message.value !== null ? ownedRunBytes(message.value) : undefined;
    for (const p of windowRefoldStep(state.restore, foldInputOf(c, offset, time, message.value), json)) {
      if (p.closedAt >= state.suppressBelow) addPart(pending, partMessage(b, p));
    }
  } else {
    for (const p of streamStep(state, foldInputOf(c, offset, time, message.value))) {
      if (p.closedAt >= state.suppressBelow) addPart(pending, partMessage(b, p));
    }
  }
  record(b, message, c, time, suppressed, traced);
  if (!suppressed) {
    o.counters.runsHeld += state.traces.held - held;
    o.counters.tracesEvicted += state.traces.evicted - evicted;
  }
  state.nextOffset = offset + 1;
  pending.lastOffset = message.offset;
  pending.messages++;
}

/**
 * Counts a classified message, queues its dead letter or rule errors, and tells its trace the outcome
 * (`held`: a trace-aware rule took the run as a candidate: it joins when its trace settles it, at once
 * or later). Below the checkpoint
 * (`suppressed`) a refold reads again what was already counted and published: only the trace hears of
 * it (a matched or held run's context links the parts the refold rebuilds).
 */
function record(
  b: BatchFold,
  message: KafkaMessage,
  c: MessageClass,
  time: number,
  suppressed: boolean,
  traced: RunTrace | undefined,
): void {
  const { o } = b.ctx;
  const counters = o.counters;
  switch (c.kind) {
    case "tick":
      counters.ticksRead++;
      return;
    case "dead_letter":
      traced?.end("dead_lettered", { reason: c.reason });
      if (suppressed) return;
      counters.runsRead++;
      counters.deadLettered[c.reason] = (counters.deadLettered[c.reason] ?? 0) + 1;
      b.pending.out.push(deadLetterMessage(o.topics, message, b.partition, c.reason, c.error));
      return;
    case "not_ended":
      traced?.end("not_ended", { runId: c.runId });
      if (suppressed) return;
      counters.runsRead++;
      counters.runsSkippedNotEnded++;
      return;
    case "not_matched":
    case "matched":
      if (!suppressed) {
        counters.runsRead++;
        if (c.kind === "matched") counters.runsMatched++;
        for (const e of c.ruleErrors) {
          counters.ruleErrors++;
          b.pending.ruleErrors.add(e.spec, c.run.id, time, e.error);
        }
      }
      if (c.kind === "matched") traced?.end("matched", { runId: c.run.id, matches: c.matches });
      else if (c.trace?.verdicts.some((v) => v.candidate)) traced?.end("held", { runId: c.run.id });
      else traced?.end("not_matched", { runId: c.run.id });
  }
}

/**
 * Ends a restart's window refold at its trace snapshot's cut (DESIGN.md §4, restart). False when the
 * snapshot named runs the refold did not read again (the log lost them): the partition is dropped
 * and starts over, refolding the trace horizon instead.
 */
function restored(b: BatchFold, offset: number): boolean {
  const { ctx, partition, state } = b;
  const r = state.restore;
  if (r === undefined || offset < r.snapshot.processedUpTo) return true;
  const failed = finishRestore(r);
  state.restore = undefined;
  if (failed === undefined) return true;
  ctx.o.counters.traceSnapshotsMissed++;
  ctx.o.log("warn", "trace snapshot names runs the refold did not read; refolding the trace horizon", {
    partition,
    missing: failed.missing.slice(0, 10),
  });
  ctx.withoutSnapshot.add(partition);
  ctx.states.delete(partition);
  ctx.consumer.seek({ topic: ctx.topic, partition, offset: String(state.seekTarget) });
  return false;
}

/**
 * A closed part as the cut takes it: with its rule's windows partition, and the trace context of its
 * publish span (started here: it covers the part's wait for its cut).
 */
function partMessage(b: BatchFold, p: ClosedPart): PendingPart {
  const { o, windowsTo } = b.ctx;
  const traceparent = o.tracing?.window(b.partition, p, {}).traceparent?.toString();
  return { part: p, traceparent, windowsPartition: windowsTo.partitionOf(p.ruleId) };
}

/**
 * Hands what the batch read since its last cut to the partition's flush queue, then moves the fetch
 * position past it. Waits only while the queue is full. False: the fold was dropped.
 */
async function cut(b: BatchFold): Promise<boolean> {
  const { ctx, partition, state: s, pending } = b;
  if (ctx.states.get(partition) !== s) return false;
  const lastOffset = pending.lastOffset;
  if (lastOffset === undefined || pending.messages === 0) return true;
  const c = takeCut(
    pending,
    ctx.o.topics,
    s,
    ctx.o.tracing?.publishing(partition),
    Date.now(),
    ctx.o.snapshotIntervalMs,
    ctx.o.windowsBundles,
  );
  // Only where the next fetch starts (autoCommit is off): a restart resumes from the checkpoint.
  b.payload.resolveOffset(lastOffset);
  await s.flushes.push(() => publishCut(ctx, partition, s, c));
  return ctx.states.get(partition) === s;
}
