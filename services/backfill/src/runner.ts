import { randomBytes } from "node:crypto";
import {
  finishBackfill,
  getBackfill,
  recordBackfillProgress,
  renewBackfillLease,
  ruleHistory,
  ruleVersionEffectiveFrom,
  setBackfillRange,
  storeWindows,
  toRuleVersion,
  webhooksOfRuleVersion,
  type BackfillLease,
  type BackfillOffsets,
  type BackfillRecord,
  type NewDelivery,
  type NewWindow,
} from "@runhooks/db";
import { deliveryId, toTarget } from "@runhooks/delivery";
import { classifyMessage, foldInputOf } from "@runhooks/evaluator";
import { groupConsumer, offsetsAtTime } from "@runhooks/kafka";
import {
  applyRuleVersion,
  backfillEnd,
  backfillFloor,
  backfillRestartTime,
  backfillStep,
  createBackfillFold,
  createRuleBook,
  type MergedChunk,
} from "@runhooks/rules";
import type { Admin, Consumer, EachBatchPayload } from "kafkajs";
import { decodeBackfillCheckpoint, encodeBackfillCheckpoint } from "./checkpoint.js";
import type { BackfillContext } from "./context.js";
import type { RunOutcome } from "./run-outcome.js";
import { partitionRanges, rangeOffsets, runsRead, type PartitionRange } from "./range.js";
import {
  evaluatorPositions,
  groupLag,
  liveBehindMs,
  minRunsPerS,
  nextRunsPerS,
  paceAfter,
  throttleWaitMs,
} from "./throttle.js";
import { backfillBody } from "./window-body.js";

export type { RunOutcome } from "./run-outcome.js";

/** A partition may run this far (stream time) ahead of the slowest one before it is paused. */
const LEAD_MS = 30_000;
const LAG_BACKOFF_MS = 500;
const LAG_REFRESH_MS = 1_000;
/**
 * The live evaluators behind the runs topic by more than this (in ms of live traffic) halve the
 * backfill's rate: a live window waits for them past its end, and its run → webhook budget past the
 * window is ~500 ms.
 */
const LIVE_BEHIND_TARGET_MS = 250;

class Fenced extends Error {}

/** Runs a claimed backfill to its end, or until it is lost or the process stops. */
export async function runBackfill(ctx: BackfillContext, job: BackfillRecord): Promise<RunOutcome> {
  const lease: BackfillLease = { id: job.id, fencingToken: job.fencingToken, leaseMs: ctx.o.leaseMs };
  let lost = false;
  const renew = setInterval(
    () => {
      renewBackfillLease(ctx.db, lease).then(
        (held) => {
          if (!held) lost = true;
        },
        (error: unknown) => ctx.log("warn", "could not renew a backfill's lease", { error: String(error) }),
      );
    },
    Math.max(100, Math.floor(ctx.o.leaseMs / 3)),
  );
  try {
    return await run(ctx, job, lease, () => lost);
  } catch (error) {
    if (error instanceof Fenced) return "lost";
    ctx.log("error", "backfill failed", { backfill_id: job.id, error: String(error) });
    const failed = await finishBackfill(ctx.db, lease, { state: "failed", error: String(error) }).catch(() => false);
    return failed ? "failed" : "lost";
  } finally {
    clearInterval(renew);
  }
}

async function run(
  ctx: BackfillContext,
  job: BackfillRecord,
  lease: BackfillLease,
  isLost: () => boolean,
): Promise<RunOutcome> {
  const { db, admin, o } = ctx;
  // The rule version, its webhooks, and a book in which it judges every run of the range.
  const event = (await ruleHistory(db, job.tenantId, job.ruleId)).find((e) => e.version === job.ruleVersion);
  if (event === undefined) throw new Error(`rule ${job.ruleId} has no version ${job.ruleVersion}`);
  const webhooks = ((await webhooksOfRuleVersion(db, job.ruleId, job.ruleVersion)) ?? []).map(toTarget);
  const book = createRuleBook({ traceHorizonSeconds: o.traceHorizonSeconds });
  applyRuleVersion(book, {
    ruleId: job.ruleId,
    rule: toRuleVersion(event.rule, job.ruleVersion),
    effectiveFrom: Number.NEGATIVE_INFINITY,
  });

  const offsets = job.offsets ?? (await resolveRange(ctx, job, lease, isLost));
  if (offsets === undefined) return isLost() ? "lost" : "stopped";
  const checkpoint = decodeBackfillCheckpoint(job.checkpoint);
  const restartAt =
    checkpoint === undefined
      ? undefined
      : await offsetsAtTime(
          admin,
          ctx.topics.runs,
          backfillRestartTime(checkpoint.floor, book.longestWindowMs, book.longestHorizonMs),
        );
  const ranges = partitionRanges(offsets, restartAt);
  const fold = createBackfillFold({
    partitions: ranges.length,
    floor: checkpoint?.floor,
    traceLimits: o.traceLimits,
  });
  const next = new Map(ranges.map((r) => [r.partition, r.from]));
  /** Progress already counted in the metrics (a resumed run starts from its checkpoint's). */
  let counted = runsRead(ranges, next);
  const ended = new Set<number>();
  const completed: MergedChunk[] = [];
  for (const r of ranges) {
    if (r.from >= r.end) {
      ended.add(r.partition);
      completed.push(...backfillEnd(fold, r.partition, r.end));
    }
  }

  let nextAt = Date.now();
  let runsPerS = minRunsPerS(o.maxRunsPerS);
  let liveLag: number | undefined;
  let lagCheckedAt = 0;
  /** The runs topic's size at the last look (its growth is the live rate). */
  let topicSize: number | undefined;
  const rangeOf = new Map(ranges.map((r) => [r.partition, r]));

  /** Stores what completed since the last call with the checkpoint, in one transaction under the lease. */
  const store = async (): Promise<void> => {
    const chunks = completed.splice(0);
    const windows: NewWindow[] = [];
    const deliveries: NewDelivery[] = [];
    for (const c of chunks) {
      windows.push({
        windowId: c.windowId,
        tenantId: c.tenantId,
        ruleId: c.ruleId,
        ruleVersion: c.ruleVersion,
        startTime: new Date(c.startMs).toISOString(),
        endTime: new Date(c.endMs).toISOString(),
        runCount: c.runs.length,
        chunkIndex: c.chunkIndex,
        chunkCount: c.chunkCount,
        webhookCount: webhooks.length,
        payload: webhooks.length === 0 ? null : backfillBody(c, job.id),
        backfillId: job.id,
      });
      const traceId = randomBytes(16).toString("hex");
      for (const t of webhooks)
        deliveries.push({
          id: deliveryId(c.windowId, t.webhookId),
          windowId: c.windowId,
          webhookId: t.webhookId,
          tenantId: c.tenantId,
          ruleId: c.ruleId,
          ruleVersion: c.ruleVersion,
          url: t.redactedUrl,
          origin: t.origin,
          traceId,
          claimed: false,
        });
    }
    const read = runsRead(ranges, next);
    const held = await db.tx(async (tx) => {
      await storeWindows(tx, windows, deliveries);
      return recordBackfillProgress(tx, lease, {
        runsRead: read,
        windowsAdded: chunks.length,
        checkpoint: encodeBackfillCheckpoint(backfillFloor(fold)),
      });
    });
    if (!held) throw new Fenced();
    ctx.counters.runsRead += Math.max(0, read - counted);
    ctx.counters.windowsStored += chunks.length;
    counted = read;
  };

  if (ended.size === ranges.length) return finish(ctx, lease, store);

  const consumer: Consumer = groupConsumer(ctx.kafka, {
    // A group of its own per owner: a killed owner's membership never delays the next one.
    groupId: `${o.topicPrefix}.backfill.${job.id}.${lease.fencingToken}`,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    maxBytesPerPartition: o.fetchBytes,
  });
  let done: (outcome: RunOutcome) => void = () => {};
  let fail: (error: unknown) => void = () => {};
  const finished = new Promise<RunOutcome>((resolve, reject) => {
    done = resolve;
    fail = reject;
  });
  const stopWatch = setInterval(() => {
    if (ctx.stopping()) done("stopped");
    else if (isLost()) fail(new Fenced());
  }, 100);

  const lockstep = (): void => {
    let low = Number.POSITIVE_INFINITY;
    for (const r of ranges) {
      if (ended.has(r.partition)) continue;
      const t = fold.streams.get(r.partition)?.fold.streamTime ?? Number.NEGATIVE_INFINITY;
      if (t < low) low = t;
    }
    const pause: number[] = [];
    const resume: number[] = [];
    for (const r of ranges) {
      if (ended.has(r.partition)) continue;
      const t = fold.streams.get(r.partition)?.fold.streamTime ?? Number.NEGATIVE_INFINITY;
      (t > low + LEAD_MS ? pause : resume).push(r.partition);
    }
    if (pause.length > 0) consumer.pause([{ topic: ctx.topics.runs, partitions: pause }]);
    if (resume.length > 0) consumer.resume([{ topic: ctx.topics.runs, partitions: resume }]);
  };

  const eachBatch = async (payload: EachBatchPayload): Promise<void> => {
    const batch = payload.batch;
    const partition = batch.partition;
    const r: PartitionRange | undefined = rangeOf.get(partition);
    if (r === undefined || ended.has(partition)) return;
    let at = next.get(partition)!;
    let readHere = 0;
    for (const message of batch.messages) {
      const offset = Number(message.offset);
      if (offset < at) continue;
      if (offset >= r.end) break;
      const time = Number(message.timestamp);
      const c = classifyMessage(message, o.limits, book, time);
      completed.push(...backfillStep(fold, partition, foldInputOf(c, offset, time, message.value)));
      at = offset + 1;
      readHere++;
    }
    next.set(partition, at);
    nextAt = paceAfter(nextAt, readHere, runsPerS, Date.now());
    if (at >= r.end || Number(batch.highWatermark) <= at) {
      // The range's end, or everything the partition holds: nothing more of the range will come.
      ended.add(partition);
      completed.push(...backfillEnd(fold, partition, r.end));
      consumer.pause([{ topic: ctx.topics.runs, partitions: [partition] }]);
    }
    await store();
    if (ended.size === ranges.length) {
      done("succeeded");
      return;
    }
    lockstep();
    await payload.heartbeat();
    await throttle();
  };

  const throttle = async (): Promise<void> => {
    for (;;) {
      if (ctx.stopping() || isLost()) return;
      const now = Date.now();
      if (now - lagCheckedAt >= LAG_REFRESH_MS) {
        const looked = await liveGroupLag(admin, o.evaluatorGroup, ctx.topics.runs).catch(() => undefined);
        const appendedPerS =
          looked === undefined || topicSize === undefined || lagCheckedAt === 0
            ? 0
            : ((looked.size - topicSize) * 1000) / (now - lagCheckedAt);
        liveLag = looked?.lag;
        topicSize = looked?.size;
        lagCheckedAt = now;
        runsPerS = nextRunsPerS({
          runsPerS,
          maxRunsPerS: o.maxRunsPerS,
          liveBehindMs: liveBehindMs(liveLag, appendedPerS),
          behindTargetMs: LIVE_BEHIND_TARGET_MS,
        });
      }
      const wait = throttleWaitMs({
        nextAtMs: nextAt,
        nowMs: now,
        liveLag,
        maxLiveLag: o.maxLiveLag,
        lagBackoffMs: LAG_BACKOFF_MS,
      });
      if (wait <= 0) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(wait, LAG_BACKOFF_MS)));
    }
  };

  try {
    await consumer.connect();
    await consumer.subscribe({ topic: ctx.topics.runs, fromBeginning: true });
    await consumer.run({
      // Nothing is committed (a resume starts from the checkpoint); the fetch position moves past each batch.
      autoCommit: false,
      eachBatch: (payload) => eachBatch(payload).catch((error: unknown) => fail(error)),
    });
    for (const r of ranges)
      if (!ended.has(r.partition))
        consumer.seek({ topic: ctx.topics.runs, partition: r.partition, offset: String(next.get(r.partition)) });
    const ended0 = ranges.filter((r) => ended.has(r.partition)).map((r) => r.partition);
    if (ended0.length > 0) consumer.pause([{ topic: ctx.topics.runs, partitions: ended0 }]);
    const outcome = await finished;
    if (outcome !== "succeeded") return outcome;
    return await finish(ctx, lease, store);
  } finally {
    clearInterval(stopWatch);
    await consumer.disconnect().catch(() => {});
    await admin.deleteGroups([`${o.topicPrefix}.backfill.${job.id}.${lease.fencingToken}`]).catch(() => {});
  }
}

async function finish(ctx: BackfillContext, lease: BackfillLease, store: () => Promise<void>): Promise<RunOutcome> {
  await store();
  if (!(await finishBackfill(ctx.db, lease, { state: "succeeded" }))) throw new Fenced();
  return "succeeded";
}

/**
 * The range as offsets, resolved once by the first owner: from `from` to `to`, or to the moment the
 * rule version came into force (its append time on the rules topic; waited for until the relay
 * published it). Undefined: the process is stopping, or the backfill was lost meanwhile.
 */
async function resolveRange(
  ctx: BackfillContext,
  job: BackfillRecord,
  lease: BackfillLease,
  isLost: () => boolean,
): Promise<BackfillOffsets | undefined> {
  let to = job.to;
  while (to === null) {
    if (ctx.stopping() || isLost()) return undefined;
    to = (await ruleVersionEffectiveFrom(ctx.db, job.ruleId, job.ruleVersion)) ?? null;
    if (to === null) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const starts = await offsetsAtTime(ctx.admin, ctx.topics.runs, job.from.getTime());
  const ends = await offsetsAtTime(ctx.admin, ctx.topics.runs, to.getTime());
  const { offsets, total } = rangeOffsets(starts, ends);
  if (!(await setBackfillRange(ctx.db, lease, { to, offsets, runsTotal: total }))) {
    // Resolved by an owner before us that lost it since? Read what it stored.
    const stored = await getBackfill(ctx.db, job.id);
    if (stored?.offsets && stored.fencingToken === lease.fencingToken) return stored.offsets;
    throw new Fenced();
  }
  return offsets;
}

/**
 * The live evaluators' lag on the runs topic (undefined when the group has committed nothing) and the
 * topic's size (messages over every partition).
 */
async function liveGroupLag(
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<{ lag: number | undefined; size: number }> {
  const [ends, groups] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const high = new Map(ends.map((e) => [e.partition, Number(e.high)]));
  return {
    lag: groupLag(high, evaluatorPositions(groups[0]?.partitions ?? [])),
    size: [...high.values()].reduce((n, h) => n + h, 0),
  };
}
