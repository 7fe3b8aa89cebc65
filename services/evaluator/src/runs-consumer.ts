import type { Consumer } from "kafkajs";
import { crashVerdict, groupConsumer, watchUnsubscribedTopics, type GroupConsumerConfig } from "@runhooks/kafka";
import { EVALUATOR_GROUP_VARIABLE } from "./group.js";
import type { RunsConsumerContext, RunsConsumerOptions } from "./consumer-context.js";
import { foldBatch } from "./fold-batch.js";
import { startIdleTicks } from "./idle-ticks.js";
import { windowPartitions } from "./window-partitions.js";

/**
 * How the runs topic is consumed (the bench's raw consumer uses the same, so its ratio compares like
 * with like): fetches of up to 4 MiB per partition, every assigned partition folded concurrently.
 */
export function runsConsumerConfig(groupId: string, sessionTimeoutMs: number): GroupConsumerConfig {
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

export interface RunsConsumer {
  stop(): Promise<void>;
  partitions(): {
    partition: number;
    streamTime: number;
    openWindows: number;
    openTraces: number;
    heldRunBytes: number;
    nextOffset: number;
  }[];
  running(): boolean;
}

/**
 * The runs consumer (DESIGN.md §4): folds each assigned partition of the runs topic into window parts,
 * publishes them and, when due, the partition's watermark, and commits a checkpoint after each flush.
 */
export async function startRunsConsumer(o: RunsConsumerOptions): Promise<RunsConsumer> {
  // 1. Where windows go, and what the steps share (the group consumer is made in step 2).
  const windowsTo = await windowPartitions(o.admin, o.topics.windows, o.log);
  const ctx: RunsConsumerContext = {
    o,
    topic: o.topics.runs,
    consumer: newConsumer(),
    windowsTo,
    states: new Map(),
    unstarted: new Map(),
    failure: undefined,
    stopping: false,
    withoutSnapshot: new Set(),
  };
  let isRunning = false;
  let replacing: Promise<void> | undefined;
  const batchesRunning = new Set<Promise<void>>();

  // 2. A group consumer. Every (re)assignment starts each partition over from its checkpoint: after a
  // rebalance another instance may have moved it on, and the refold is what makes the result
  // independent of who did. Each assigned partition is unstarted until its first batch (an empty one
  // is ticked meanwhile).
  function newConsumer(): Consumer {
    const consumer = groupConsumer(o.kafka, runsConsumerConfig(o.groupId, o.sessionTimeoutMs));
    watchUnsubscribedTopics(consumer, EVALUATOR_GROUP_VARIABLE, o.log);
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      ctx.states.clear();
      ctx.unstarted.clear();
      const now = Date.now();
      for (const partition of e.payload.memberAssignment[ctx.topic] ?? [])
        ctx.unstarted.set(partition, { tickInFlight: false, lastReadAt: now });
      o.tracing?.reset();
      void windowsTo.refresh();
    });
    consumer.on(consumer.events.CRASH, (e) => crashed(consumer, e.payload.error, e.payload.restart));
    o.observeConsumer?.(consumer);
    return consumer;
  }

  // 3. A crash kafkajs restarts from is left to it. One it gives up on after losing the group
  // membership (a rebalance racing a fetch) is answered by a new consumer joining afresh; anything
  // else is fatal.
  function crashed(consumer: Consumer, error: Error, restarting: boolean): void {
    const verdict = restarting ? undefined : crashVerdict(error);
    o.log("error", "runs consumer crashed", {
      error: String(error),
      restarting: restarting || verdict?.kind === "rejoin",
    });
    if (verdict === undefined || consumer !== ctx.consumer || ctx.stopping) return;
    isRunning = false;
    if (verdict.kind === "fatal") {
      o.onFatal(error);
      return;
    }
    replacing = replaceConsumer().finally(() => (replacing = undefined));
  }

  /** kafkajs has disconnected the crashed consumer; what it was folding is dropped and refolded. */
  async function replaceConsumer(): Promise<void> {
    ctx.states.clear();
    ctx.unstarted.clear();
    ctx.failure = undefined;
    ctx.consumer = newConsumer();
    try {
      await runConsumer(ctx.consumer);
      isRunning = true;
    } catch (error) {
      o.onFatal(error instanceof Error ? error : new Error(String(error)));
    }
  }

  // 4. Fold batches, keeping the ones in progress so that stopping can wait for them.
  async function runConsumer(consumer: Consumer): Promise<void> {
    await consumer.connect();
    await consumer.subscribe({ topic: ctx.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: RUNS_PARTITIONS_CONCURRENTLY,
      eachBatch: (payload) => {
        const running = foldBatch(ctx, payload);
        batchesRunning.add(running);
        void running.catch(() => undefined).finally(() => batchesRunning.delete(running));
        return running;
      },
    });
  }
  await runConsumer(ctx.consumer);
  isRunning = true;

  // 5. Ticks for idle partitions, so that their windows close and their watermarks move.
  const stopTicks = startIdleTicks(ctx);

  return {
    async stop() {
      stopTicks();
      // Fold nothing more; let the batches being folded cut, and their flushes publish and commit,
      // before leaving the group (after which a commit would be refused).
      ctx.stopping = true;
      await replacing;
      try {
        ctx.consumer.pause([{ topic: ctx.topic }]);
      } catch {
        // Not running (it crashed, or is restarting): nothing is fetched anyway.
      }
      await Promise.allSettled([...batchesRunning]);
      await Promise.all([...ctx.states.values()].map((s) => s.flushes.idle()));
      isRunning = false;
      await ctx.consumer.disconnect();
    },
    partitions: () =>
      [...ctx.states.entries()].map(([partition, s]) => ({
        partition,
        streamTime: s.fold.streamTime,
        openWindows: s.fold.open.size,
        openTraces: s.traces.open.size,
        heldRunBytes: s.traces.heldBytes,
        nextOffset: s.nextOffset,
      })),
    running: () => isRunning,
  };
}
