import { nextCloseTime } from "@runhooks/rules";
import type { RunsConsumerContext } from "./consumer-context.js";
import { KIND_HEADER, TICK, tickValue } from "./headers.js";
import type { PartitionState } from "./partition-state.js";

/**
 * Whether a partition is due a tick: it is folding, has no tick on its way, holds a window whose end
 * has passed on the wall clock, and has read nothing for `tickIntervalMs`.
 */
export function tickDue(s: Pick<PartitionState, "phase" | "tickInFlight" | "fold" | "lastReadAt">, now: number, tickIntervalMs: number): boolean {
  if (s.phase !== "active" || s.tickInFlight) return false;
  const due = nextCloseTime(s.fold);
  return due !== undefined && due <= now && now - s.lastReadAt >= tickIntervalMs;
}

/**
 * Closing never depends on the wall clock; but when a partition with open windows is idle, a tick
 * appended to it lets its stream time (the broker's append time) move on. Returns the stop function.
 */
export function startIdleTicks(ctx: RunsConsumerContext): () => void {
  const { tickIntervalMs } = ctx.o;
  const timer = setInterval(
    () => {
      const now = Date.now();
      for (const [partition, state] of ctx.states) if (tickDue(state, now, tickIntervalMs)) appendTick(ctx, partition, state);
    },
    Math.max(10, Math.floor(tickIntervalMs / 2)),
  );
  return () => clearInterval(timer);
}

function appendTick(ctx: RunsConsumerContext, partition: number, state: PartitionState): void {
  const { o } = ctx;
  state.tickInFlight = true;
  o.producer
    .send({
      topic: ctx.topic,
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
