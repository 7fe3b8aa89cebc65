import type { TopicNames } from "@runhooks/kafka";
import {
  createFoldState,
  decodeCheckpoint,
  encodeCheckpoint,
  foldStep,
  nextCloseTime,
  oldestOpenOffset,
  refoldFromTime,
  type FoldState,
} from "@runhooks/rules";
import kafkajs, { type Admin, type Consumer, type ConsumerConfig, type EachBatchPayload, type Kafka, type Message, type Producer } from "kafkajs";
import type { Counters } from "./counters.js";
import { deadLetterMessage } from "./dead-letter.js";
import type { RunLimits } from "./decode.js";
import { judgeRun } from "./judge.js";
import { createRuleErrorBatch } from "./rule-errors.js";
import { KIND_HEADER, TICK, isTick, tickValue } from "./headers.js";
import type { Logger } from "@runhooks/telemetry";
import type { RulesLog } from "./rules-log.js";
import { createFlushQueue, type FlushQueue } from "./flush-queue.js";
import { windowPartitions } from "./window-partitions.js";
import { PARTITION_BUDGET_BYTES, SEND_BUDGET_BYTES, byteBudgetChunks, type TopicMessages } from "./send-chunks.js";
import type { RunsTracing } from "./tracing.js";
import { ownedRunBytes, windowMessageValue } from "./window-message.js";

/**
 * Where a batch is cut into flushes (publish what it closed, then commit its checkpoint): at its end,
 * and within a long batch every CUT_EVERY messages, CUT_AFTER_MS, or CUT_BYTES of closed windows, so
 * that what waits in memory stays bounded. Flushes run off the fetch loop (FlushQueue), at most
 * FLUSH_DEPTH of them pending per partition. Cut points never change what is published, only when:
 * suppression after a restart is by offset.
 */
const CUT_EVERY = 2500;
const CUT_AFTER_MS = 1000;
const CUT_BYTES = 6 * 1024 * 1024;
const FLUSH_DEPTH = 3;
const CHECK_EVERY = 64;

const REBALANCE_ERRORS = new Set(["UNKNOWN_MEMBER_ID", "REBALANCE_IN_PROGRESS", "ILLEGAL_GENERATION", "NOT_COORDINATOR"]);

function isRebalance(error: unknown): boolean {
  const type = (error as { type?: unknown }).type;
  return typeof type === "string" && REBALANCE_ERRORS.has(type);
}

const { CompressionTypes } = kafkajs;

/**
 * How the runs topic is consumed (the bench's raw consumer uses the same, so its ratio compares like
 * with like): fetches of up to 4 MiB per partition, every assigned partition folded concurrently.
 */
export function runsConsumerConfig(groupId: string, sessionTimeoutMs: number): ConsumerConfig {
  return {
    groupId,
    sessionTimeout: sessionTimeoutMs,
    heartbeatInterval: Math.min(1000, Math.floor(sessionTimeoutMs / 3)),
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: 4 * 1024 * 1024,
    maxBytes: 32 * 1024 * 1024,
  };
}
export const RUNS_PARTITIONS_CONCURRENTLY = 16;

export interface RunsConsumerOptions {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly producer: Producer;
  readonly topics: TopicNames;
  readonly groupId: string;
  readonly instanceId: string;
  readonly rules: RulesLog;
  readonly limits: RunLimits;
  readonly tickIntervalMs: number;
  readonly sessionTimeoutMs: number;
  /** Called when the consumer stops for good (a non-retriable error): the process should exit. */
  readonly onFatal: (error: Error) => void;
  readonly log: Logger;
  readonly counters: Counters;
  /** Spans of runs and windows; undefined when tracing is off (then no per-message tracing work). */
  readonly tracing?: RunsTracing | undefined;
  /** Lets metrics follow the consumer (its lag per partition). */
  readonly observeConsumer?: (consumer: Consumer) => void;
}

/**
 * One partition's progress. `suppressBelow` is the checkpoint's processed-up-to offset: while refolding
 * after a restart, windows closed and messages dead-lettered below it were already published.
 */
interface PartitionState {
  phase: "seeking" | "active";
  seekTarget: number;
  committedOffset: number;
  suppressBelow: number;
  readonly fold: FoldState;
  nextOffset: number;
  /** Wall-clock ms of the last message read: only decides when an idle partition gets a tick. */
  lastReadAt: number;
  tickInFlight: boolean;
  /** Publishing and committing of this fold's cuts, in order, off the fetch loop. */
  readonly flushes: FlushQueue;
}

/** What one cut of a batch publishes and commits, fixed when it is cut. */
interface Cut {
  readonly out: TopicMessages[];
  readonly windowCount: number;
  /** Never past the first run of a window still open at the cut. */
  readonly commitAt: number;
  readonly checkpoint: string;
  readonly sent: ((error?: unknown) => void) | undefined;
}

export interface RunsConsumer {
  stop(): Promise<void>;
  partitions(): { partition: number; streamTime: number; openWindows: number; nextOffset: number }[];
  running(): boolean;
}

export async function startRunsConsumer(o: RunsConsumerOptions): Promise<RunsConsumer> {
  const topic = o.topics.runs;
  const states = new Map<number, PartitionState>();
  let isRunning = false;
  const windowsTo = await windowPartitions(o.admin, o.topics.windows, o.log);

  const consumer: Consumer = o.kafka.consumer(runsConsumerConfig(o.groupId, o.sessionTimeoutMs));
  // Every (re)assignment starts each partition over from its checkpoint: after a rebalance another
  // instance may have moved it on, and the refold is what makes the result independent of who did.
  consumer.on(consumer.events.GROUP_JOIN, () => {
    states.clear();
    o.tracing?.reset();
    void windowsTo.refresh();
  });
  o.observeConsumer?.(consumer);
  consumer.on(consumer.events.CRASH, (e) => {
    o.log("error", "runs consumer crashed", { error: String(e.payload.error), restarting: e.payload.restart });
    if (!e.payload.restart) {
      isRunning = false;
      o.onFatal(e.payload.error);
    }
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });

  /** Reads the partition's checkpoint and decides where to fold from; may seek. */
  async function initialise(partition: number, firstOffset: number): Promise<PartitionState> {
    const committed = (await o.admin.fetchOffsets({ groupId: o.groupId, topics: [topic] }))
      .flatMap((t) => t.partitions)
      .find((p) => p.partition === partition);
    const committedOffset = committed && Number(committed.offset) >= 0 ? Number(committed.offset) : -1;
    const checkpoint = decodeCheckpoint(committed?.metadata);
    const base = {
      committedOffset,
      fold: createFoldState(partition),
      lastReadAt: Date.now(),
      tickInFlight: false,
      flushes: createFlushQueue(FLUSH_DEPTH, (error) => flushFailed(partition, error)),
    };
    if (checkpoint === undefined) {
      o.log("info", "partition assigned; no checkpoint, folding from the current position", { partition, firstOffset });
      return { ...base, phase: "active", seekTarget: firstOffset, suppressBelow: 0, nextOffset: firstOffset };
    }
    // Every rule version in force up to the checkpoint must be known to size the refold.
    await o.rules.waitPast(checkpoint.streamTime);
    const from = refoldFromTime(checkpoint, o.rules.book.longestWindowMs);
    const offsets = await o.admin.fetchTopicOffsetsByTimestamp(topic, from);
    const found = offsets.find((p) => p.partition === partition);
    // No message at or after that time (-1): nothing to refold, resume where the commit says.
    const byTime = Number(found?.offset ?? -1);
    const target = byTime >= 0 && (committedOffset < 0 || byTime < committedOffset) ? byTime : Math.max(committedOffset, 0);
    o.log("info", "partition assigned; refolding from checkpoint", {
      partition,
      streamTime: new Date(checkpoint.streamTime).toISOString(),
      refoldFrom: target,
      processedUpTo: checkpoint.processedUpTo,
    });
    if (target !== firstOffset) consumer.seek({ topic, partition, offset: String(target) });
    return {
      ...base,
      phase: target === firstOffset ? "active" : "seeking",
      seekTarget: target,
      suppressBelow: checkpoint.processedUpTo,
      nextOffset: target,
    };
  }

  /** A flush's error not yet surfaced: the next batch throws it, so kafkajs retries or crashes as it would. */
  let failure: Error | undefined;
  let stopping = false;
  const batchesRunning = new Set<Promise<void>>();

  /**
   * A flush failed: the fold has moved past windows Kafka did not take. Later flushes of that fold never
   * run (FlushQueue); the partition starts over from its checkpoint, which the seek guarantees even if
   * no other message comes, and the refold publishes those windows again.
   */
  function flushFailed(partition: number, error: unknown): void {
    const state = states.get(partition);
    o.log("error", "could not publish or commit; refolding the partition from its checkpoint", { partition, error: String(error) });
    failure ??= error instanceof Error ? error : new Error(String(error));
    // The state whose queue failed is the current one, or was already dropped (rebalance): then its
    // next owner refolds anyway.
    if (state === undefined || !state.flushes.failed) return;
    states.delete(partition);
    const from = state.committedOffset >= 0 ? state.committedOffset : state.seekTarget;
    if (!stopping) consumer.seek({ topic, partition, offset: String(from) });
  }

  /** Publishes one cut, then commits its checkpoint; skipped once the partition's fold was dropped. */
  async function publish(partition: number, s: PartitionState, cut: Cut): Promise<void> {
    // Dropped by a rebalance or a failure: whoever folds the partition next re-emits these windows.
    if (states.get(partition) !== s) return cut.sent?.();
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
    o.counters.windowsEmitted += cut.windowCount;
    if (states.get(partition) !== s) return;
    try {
      await consumer.commitOffsets([{ topic, partition, offset: String(cut.commitAt), metadata: cut.checkpoint }]);
    } catch (error) {
      if (!isRebalance(error)) throw error;
      // We lost the partition while working on it. What we published is safe: the next owner refolds
      // from the last checkpoint and re-emits those windows identically (delivery dedupes them).
      o.log("warn", "partition moved during a batch; leaving it to its new owner", { partition, error: String(error) });
      if (states.get(partition) === s) states.delete(partition);
      return;
    }
    s.committedOffset = cut.commitAt;
    o.tracing?.forget(partition, cut.commitAt);
  }

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    if (failure !== undefined) {
      const error = failure;
      failure = undefined;
      throw error;
    }
    if (stopping) return;
    const { batch } = payload;
    const heartbeat = () => payload.heartbeat();
    const partition = batch.partition;
    const first = batch.messages[0];
    if (first === undefined) return;
    let state = states.get(partition);
    if (state === undefined) {
      state = await initialise(partition, Number(first.offset));
      states.set(partition, state);
      if (state.phase === "seeking") return;
    }
    if (state.phase === "seeking") {
      const offset = Number(first.offset);
      // A batch fetched before the seek starts at the committed offset; the one after starts at the target.
      const isAfterSeek = offset === state.seekTarget || (offset > state.seekTarget && offset < state.committedOffset);
      if (!isAfterSeek) return;
      state.phase = "active";
    }

    let out: TopicMessages[] = [];
    let windows: Message[] = [];
    // Published with the dead letters of the same cut, and suppressed below the checkpoint like them.
    const ruleErrors = createRuleErrorBatch();
    let windowBytes = 0;
    let lastOffset: string | undefined;
    let pending = 0;
    let cutAt = Date.now();

    /**
     * Hands what the messages so far closed to the partition's flush queue, with the commit point —
     * never past the first run of a window still open — and the checkpoint as of now, then moves the
     * fetch position past them. Waits only while the queue is full. False: the fold was dropped.
     */
    const cut = async (s: PartitionState): Promise<boolean> => {
      if (states.get(partition) !== s) return false;
      if (lastOffset === undefined || pending === 0) return true;
      if (windows.length > 0) out.push({ topic: o.topics.windows, messages: windows });
      if (ruleErrors.size > 0) out.push({ topic: o.topics.ruleErrors, messages: ruleErrors.drain() });
      const c: Cut = {
        out,
        windowCount: windows.length,
        commitAt: Math.min(oldestOpenOffset(s.fold) ?? s.nextOffset, s.nextOffset),
        checkpoint: encodeCheckpoint({ streamTime: s.fold.streamTime, processedUpTo: s.nextOffset }),
        sent: o.tracing?.publishing(partition),
      };
      out = [];
      windows = [];
      windowBytes = 0;
      pending = 0;
      cutAt = Date.now();
      // Only where the next fetch starts (autoCommit is off): a restart resumes from the checkpoint.
      payload.resolveOffset(lastOffset);
      await s.flushes.push(() => publish(partition, s, c));
      return states.get(partition) === s;
    };

    // Every CHECK_EVERY messages: whether to stop, and the clock (both cost more than folding a tick).
    let unchecked = 0;
    let now = Date.now();
    for (const message of batch.messages) {
      if (unchecked-- === 0) {
        if (!payload.isRunning() || payload.isStale() || stopping) break;
        unchecked = CHECK_EVERY - 1;
        now = Date.now();
        state.lastReadAt = now;
      }
      const offset = Number(message.offset);
      if (offset < state.nextOffset) continue;
      const time = Number(message.timestamp);
      if (time >= o.rules.watermark()) await o.rules.waitPast(time, heartbeat);
      const suppressed = offset < state.suppressBelow;

      let closed;
      if (isTick(message.headers)) {
        o.counters.ticksRead++;
        closed = foldStep(state.fold, { kind: "time", offset, time });
      } else {
        if (!suppressed) o.counters.runsRead++;
        const traced = o.tracing?.run(partition, message, suppressed);
        const judged = judgeRun(message.value, o.limits, o.rules.book, Math.max(time, state.fold.streamTime));
        if (judged.kind === "dead_letter") {
          traced?.end("dead_lettered", { reason: judged.reason });
          if (!suppressed) {
            o.counters.deadLettered[judged.reason] = (o.counters.deadLettered[judged.reason] ?? 0) + 1;
            out.push(deadLetterMessage(o.topics, message, partition, judged.reason, judged.error));
          }
          closed = foldStep(state.fold, { kind: "time", offset, time });
        } else if (judged.kind === "not_ended") {
          traced?.end("not_ended", { runId: judged.runId });
          if (!suppressed) o.counters.runsSkippedNotEnded++;
          closed = foldStep(state.fold, { kind: "time", offset, time });
        } else {
          const { run, matches } = judged;
          if (!suppressed) {
            if (matches.length > 0) o.counters.runsMatched++;
            for (const e of judged.ruleErrors) {
              o.counters.ruleErrors++;
              ruleErrors.add(e.spec, run.id, time, e.error);
            }
          }
          traced?.end(matches.length > 0 ? "matched" : "not_matched", { runId: run.id, matches });
          closed = foldStep(
            state.fold,
            matches.length === 0
              ? { kind: "time", offset, time }
              : { kind: "run", offset, time, run: { runId: run.id, json: ownedRunBytes(message.value!) }, matches },
          );
        }
      }
      for (const w of closed) {
        if (w.closedAt < state.suppressBelow) continue;
        const headers = { "runhooks-window-id": w.windowId };
        const value = windowMessageValue(w);
        windowBytes += value.length;
        const message: Message = { key: w.ruleId, value, headers: o.tracing ? o.tracing.window(partition, w, headers) : headers };
        windowsTo.assign(message);
        windows.push(message);
      }
      state.nextOffset = offset + 1;
      lastOffset = message.offset;
      if (++pending >= CUT_EVERY || windowBytes >= CUT_BYTES || now - cutAt >= CUT_AFTER_MS) {
        if (!(await cut(state))) return;
        // Within a long batch the group membership needs it; kafkajs heartbeats after each batch.
        await heartbeat();
      }
    }
    state.lastReadAt = Date.now();
    await cut(state);
  }

  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: RUNS_PARTITIONS_CONCURRENTLY,
    eachBatch: (payload) => {
      const running = eachBatch(payload);
      batchesRunning.add(running);
      void running.catch(() => undefined).finally(() => batchesRunning.delete(running));
      return running;
    },
  });
  isRunning = true;

  // Closing never depends on the wall clock; but when a partition with open windows is idle, a tick
  // appended to it lets its stream time (the broker's append time) move on.
  const ticker = setInterval(() => {
    const now = Date.now();
    for (const [partition, state] of states) {
      if (state.phase !== "active" || state.tickInFlight) continue;
      const due = nextCloseTime(state.fold);
      if (due === undefined || due > now || now - state.lastReadAt < o.tickIntervalMs) continue;
      state.tickInFlight = true;
      o.producer
        .send({
          topic,
          acks: -1,
          messages: [{ partition, key: null, value: tickValue(o.instanceId), headers: { [KIND_HEADER]: TICK } }],
        })
        .then(() => o.counters.ticksWritten++)
        .catch((error: unknown) => o.log("warn", "could not append a tick", { partition, error: String(error) }))
        .finally(() => {
          state.tickInFlight = false;
          state.lastReadAt = Date.now();
        });
    }
  }, Math.max(10, Math.floor(o.tickIntervalMs / 2)));

  return {
    async stop() {
      clearInterval(ticker);
      // Fold nothing more; let the batches being folded cut, and their flushes publish and commit,
      // before leaving the group (after which a commit would be refused).
      stopping = true;
      try {
        consumer.pause([{ topic }]);
      } catch {
        // Not running (it crashed, or is restarting): nothing is fetched anyway.
      }
      await Promise.allSettled([...batchesRunning]);
      await Promise.all([...states.values()].map((s) => s.flushes.idle()));
      isRunning = false;
      await consumer.disconnect();
    },
    partitions: () =>
      [...states.entries()].map(([partition, s]) => ({
        partition,
        streamTime: s.fold.streamTime,
        openWindows: s.fold.open.size,
        nextOffset: s.nextOffset,
      })),
    running: () => isRunning,
  };
}
