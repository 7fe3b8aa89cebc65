import { describe, expect, it } from "vitest";
import { createFoldState, createTraceState, foldStep } from "@runhooks/rules";
import { createFlushQueue } from "../src/flush-queue.js";
import type { PartitionState } from "../src/partition-state.js";
import { createPendingCut, takeCut } from "../src/pending-cut.js";

const topics = { windows: "w", ruleErrors: "e" };

function partition(): PartitionState {
  return {
    phase: "active",
    seekTarget: 0,
    committedOffset: -1,
    suppressBelow: 0,
    windowsFrom: -Infinity,
    fold: createFoldState(0),
    traces: createTraceState(),
    nextOffset: 0,
    lastReadAt: 0,
    tickInFlight: false,
    lastWatermark: undefined,
    restore: undefined,
    snapshot: undefined,
    snapshotAt: 0,
    flushes: createFlushQueue(1, () => undefined),
  };
}

describe("a cut's watermark", () => {
  it("is the stream time at the cut when due, and counts as sent once cut", () => {
    const s = partition();
    const pending = createPendingCut(0);
    const cutAt = (offset: number, time: number) => {
      foldStep(s.fold, { kind: "time", offset, time });
      s.nextOffset = offset + 1;
      pending.messages++;
      return takeCut(pending, topics, s, undefined, 0);
    };
    // [stream time at the cut, watermark sent with it]
    const cuts = [
      [12_300, 12_300], // the first after the assignment
      [12_900, undefined], // the same second
      [13_000, 13_000], // a whole second crossed
      [13_400, undefined],
      [15_100, 15_100],
    ];
    cuts.forEach(([time, watermark], offset) => expect(cutAt(offset, time!).watermark, `at ${time}`).toBe(watermark));
    expect(s.lastWatermark).toBe(15_100);
  });
});
