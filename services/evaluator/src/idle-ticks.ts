import { anyRuleInForce, nextCloseTime } from "@runhooks/rules";
import type { RunsConsumerContext, UnstartedPartition } from "./consumer-context.js";
import { KIND_HEADER, TICK, tickValue } from "./headers.js";
import type { PartitionState } from "./partition-state.js";

/**
 * Idle ticks (DESIGN.md §4). Closing never depends on the wall clock, and neither does a watermark:
 * but when an assigned partition reads nothing, a tick appended to it lets its stream time (the
 * broker's append time) move on, so its open windows close and its watermark keeps up with the
 * others' — an idle partition's watermark would otherwise hold back every merged window.
 */

/** What decides whether a partition is due a tick. */
export interface TickFacts {
  /** `unstarted`: assigned, but no batch read yet (an empty partition never gets one). */
  readonly phase: "unstarted" | "seeking" | "active";
  readonly tickInFlight: boolean;
  /** -Infinity before the first message. */
  readonly streamTime: number;
  /** The earliest end of an open window, if any. */
  readonly nextClose: number | undefined;
  /** Wall-clock ms of the last message read (or of the assignment, or of the last tick while unstarted). */
  readonly lastReadAt: number;
}

/** The first whole second after `streamTime`: the next window end a watermark could pass. */
export function nextWholeSecond(streamTime: number): number {
  return (Math.floor(streamTime / 1000) + 1) * 1000;
}

/**
 * Whether a partition is due a tick: it is not waiting for a seek, has no tick on its way, has read
 * nothing for `tickIntervalMs`, and either holds a window whose end has passed on the wall clock, or
 * a rule is in force and the wall clock has passed the next whole second after its stream time (a
 * tick then moves its watermark past a window end).
 */
export function tickDue(f: TickFacts, now: number, tickIntervalMs: number, rulesInForce: boolean): boolean {
  if (f.phase === "seeking" || f.tickInFlight) return false;
  if (now - f.lastReadAt < tickIntervalMs) return false;
  if (f.nextClose !== undefined && f.nextClose <= now) return true;
  return rulesInForce && now >= nextWholeSecond(f.streamTime);
}

function foldFacts(s: PartitionState): TickFacts {
  return {
    phase: s.phase,
    tickInFlight: s.tickInFlight,
    streamTime: s.fold.streamTime,
    nextClose: nextCloseTime(s.fold),
    lastReadAt: s.lastReadAt,
  };
}

function unstartedFacts(u: UnstartedPartition): TickFacts {
  return {
    phase: "unstarted",
    tickInFlight: u.tickInFlight,
    streamTime: Number.NEGATIVE_INFINITY,
    nextClose: undefined,
    lastReadAt: u.lastReadAt,
  };
}

/** Checks every assigned partition for a due tick, every half tick interval. Returns the stop function. */
export function startIdleTicks(ctx: RunsConsumerContext): () => void {
  const { tickIntervalMs } = ctx.o;
  const timer = setInterval(
    () => {
      const now = Date.now();
      const inForce = anyRuleInForce(ctx.o.rules.book, now);
      for (const [partition, state] of ctx.states) {
        if (tickDue(foldFacts(state), now, tickIntervalMs, inForce)) appendTick(ctx, partition, state);
      }
      for (const [partition, unstarted] of ctx.unstarted) {
        if (tickDue(unstartedFacts(unstarted), now, tickIntervalMs, inForce)) appendTick(ctx, partition, unstarted);
      }
    },
    Math.max(10, Math.floor(tickIntervalMs / 2)),
  );
  return () => clearInterval(timer);
}

/** Appends a tick to the partition; `on` marks it in flight meanwhile, and counts it as read once appended. */
function appendTick(
  ctx: RunsConsumerContext,
  partition: number,
  on: Pick<PartitionState, "tickInFlight" | "lastReadAt">,
): void {
  const { o } = ctx;
  on.tickInFlight = true;
  o.producer
    .send({
      topic: ctx.topic,
      acks: -1,
      messages: [{ partition, key: null, value: tickValue(o.instanceId), headers: { [KIND_HEADER]: TICK } }],
    })
    .then(() => o.counters.ticksWritten++)
    .catch((error: unknown) => o.log("warn", "could not append a tick", { partition, error: String(error) }))
    .finally(() => {
      on.tickInFlight = false;
      on.lastReadAt = Date.now();
    });
}
