import { groupLag, throttleWaitMs } from "@runhooks/backfill";
import { partitionsTruncatedAt } from "@runhooks/kafka";
import { describe, expect, it } from "vitest";

describe("backfill throttle", () => {
  const base = { maxRunsPerS: 1000, liveLag: 0, maxLiveLag: 100, lagBackoffMs: 500 };
  it.each([
    [{ runsRead: 0, elapsedMs: 0 }, 0],
    [{ runsRead: 1000, elapsedMs: 1000 }, 0],
    [{ runsRead: 1000, elapsedMs: 400 }, 600],
    [{ runsRead: 500, elapsedMs: 2000 }, 0],
    [{ runsRead: 10, elapsedMs: 0, liveLag: 101 }, 500],
    [{ runsRead: 10, elapsedMs: 0, liveLag: 100 }, 10],
    [{ runsRead: 2000, elapsedMs: 1000, liveLag: undefined }, 1000],
  ])("%j waits %d ms", (input, wait) => expect(throttleWaitMs({ ...base, ...input })).toBe(wait));

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
