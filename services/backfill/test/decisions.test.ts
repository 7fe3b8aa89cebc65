import {
  evaluatorPositions,
  groupLag,
  liveBehindMs,
  minRunsPerS,
  nextRunsPerS,
  paceAfter,
  PACE_CREDIT_MS,
  throttleWaitMs,
} from "@runhooks/backfill";
import { partitionsTruncatedAt } from "@runhooks/kafka";
import { describe, expect, it } from "vitest";

describe("backfill throttle", () => {
  const base = { nowMs: 10_000, liveLag: 0, maxLiveLag: 100, lagBackoffMs: 500 };
  it.each([
    [{ nextAtMs: 10_000 }, 0],
    [{ nextAtMs: 9_000 }, 0],
    [{ nextAtMs: 10_600 }, 600],
    [{ nextAtMs: 10_000.2 }, 1],
    [{ nextAtMs: 10_000, liveLag: 101 }, 500],
    [{ nextAtMs: 10_010, liveLag: 100 }, 10],
    [{ nextAtMs: 11_000, liveLag: undefined }, 1000],
  ])("%j waits %d ms", (input, wait) => expect(throttleWaitMs({ ...base, ...input })).toBe(wait));

  it.each([
    // [next at, runs read, runs/s, now] → the next read's time
    [10_000, 1000, 1000, 10_000, 11_000],
    [10_000, 500, 1000, 10_000, 10_500],
    [12_000, 1000, 1000, 10_000, 13_000],
    // Idle or paused for 5 s: a second of credit, no more.
    [5_000, 1000, 1000, 10_000, 10_000],
    [5_000, 3000, 1000, 10_000, 12_000],
    [9_500, 1000, 1000, 10_000, 10_500],
    [10_000, 0, 1000, 10_000, 10_000],
  ])("paced from %d, %d runs at %d/s at %d: next at %d", (nextAt, runs, rate, now, expected) =>
    expect(paceAfter(nextAt, runs, rate, now)).toBe(expected),
  );
  it("grants at most PACE_CREDIT_MS of credit", () => expect(PACE_CREDIT_MS).toBe(1000));

  const rate = { maxRunsPerS: 20_000, behindTargetMs: 250 };
  it.each([
    // [runs/s, live behind ms] → next runs/s
    [1_000, 0, 3_000],
    [1_000, undefined, 3_000],
    [19_000, 0, 20_000],
    [20_000, 250, 20_000],
    [20_000, 251, 10_000],
    [10_000, 5_000, 5_000],
    [1_500, 1_000, 1_000],
    [1_000, 1_000, 1_000],
  ])("at %d runs/s, live %s ms behind: %d runs/s", (runsPerS, behind, expected) =>
    expect(nextRunsPerS({ ...rate, runsPerS, liveBehindMs: behind })).toBe(expected),
  );
  it.each([
    [20_000, 1_000],
    [100, 5],
    [10, 1],
  ])("at most %d runs/s starts at %d", (max, start) => expect(minRunsPerS(max)).toBe(start));

  it.each([
    [2_000, 2_000, 1_000],
    [500, 2_000, 250],
    [0, 2_000, 0],
    [1_000, 0, undefined],
    [undefined, 2_000, undefined],
  ])("lag %s at %d runs/s appended: %s ms behind", (lag, appended, expected) =>
    expect(liveBehindMs(lag, appended)).toBe(expected),
  );

  it("takes the evaluators' position from their checkpoint, past the oldest open window", () => {
    const checkpoint = (p: number) => JSON.stringify({ v: 1, s: 1_700_000_000_000, p });
    expect(
      evaluatorPositions([
        { partition: 0, offset: "100", metadata: checkpoint(180) },
        { partition: 1, offset: "50", metadata: null },
        { partition: 2, offset: "70", metadata: "not a checkpoint" },
        { partition: 3, offset: "-1", metadata: "" },
        { partition: 4, offset: "90", metadata: checkpoint(80) },
      ]),
    ).toEqual(
      new Map([
        [0, 180],
        [1, 50],
        [2, 70],
        [4, 90],
      ]),
    );
  });

  it("counts the lag of committed partitions only", () => {
    const ends = new Map([
      [0, 100],
      [1, 50],
      [2, 10],
    ]);
    expect(
      groupLag(
        ends,
        new Map([
          [0, 90],
          [1, -1],
        ]),
      ),
    ).toBe(10);
    expect(groupLag(ends, new Map())).toBeUndefined();
  });
});

describe("retention", () => {
  it("names the partitions whose log starts after 0 at the first offset at or after from", () => {
    const lows = new Map([
      [0, 0],
      [1, 40],
      [2, 40],
    ]);
    const atFrom = new Map([
      [0, 0],
      [1, 40],
      [2, 41],
    ]);
    expect(partitionsTruncatedAt(lows, atFrom)).toEqual([1]);
  });
});
