import { describe, expect, it } from "vitest";
import { followsSeek, inTracePrefix, partitionStart, restartOffset } from "../src/partition-state.js";

describe("where an assigned partition starts", () => {
  it.each([
    // [why, first batch's offset, refold (offset, suppress below, windows from), start]
    [
      "no checkpoint: from the first batch, suppressing nothing",
      40,
      undefined,
      { phase: "active", seekTarget: 40, suppressBelow: 0, windowsFrom: -Infinity, nextOffset: 40 },
    ],
    [
      "a refold from where the batch starts: no seek",
      40,
      { offset: 40, suppressBelow: 55, windowsFrom: 9000 },
      { phase: "active", seekTarget: 40, suppressBelow: 55, windowsFrom: 9000, nextOffset: 40 },
    ],
    [
      "a refold from further back: seek",
      40,
      { offset: 12, suppressBelow: 55, windowsFrom: 9000 },
      { phase: "seeking", seekTarget: 12, suppressBelow: 55, windowsFrom: 9000, nextOffset: 12 },
    ],
  ])("%s", (_why, firstOffset, refold, expected) => {
    expect(partitionStart(firstOffset, refold)).toEqual(expected);
  });

  it.each([
    // [why, offset, stream time, in the trace prefix]
    ["processed, read before windows-from: only traces", 54, 8999, true],
    ["processed, read at windows-from: windows too", 54, 9000, false],
    ["not yet processed, however early", 55, 100, false],
  ])("a message %s", (_why, offset, at, expected) => {
    expect(inTracePrefix({ suppressBelow: 55, windowsFrom: 9000 }, offset, at)).toBe(expected);
    expect(inTracePrefix({ suppressBelow: 55, windowsFrom: -Infinity }, offset, at)).toBe(false);
  });

  it.each([
    // [why, batch's first offset, seek target, committed offset, after the seek]
    ["starts at the target", 12, 12, 40, true],
    ["starts between the target and the commit", 15, 12, 40, true],
    ["starts at the commit: fetched before the seek", 40, 12, 40, false],
    ["starts past the commit", 41, 12, 40, false],
    ["starts below the target", 11, 12, 40, false],
  ])("a batch that %s", (_why, firstOffset, seekTarget, committedOffset, expected) => {
    expect(followsSeek(firstOffset, { seekTarget, committedOffset })).toBe(expected);
  });

  it.each([
    // [why, seek target, committed offset, restart offset]
    ["committed: from the commit", 12, 40, 40],
    ["committed at the partition's start", 12, 0, 0],
    ["nothing committed yet: from where the fold began", 12, -1, 12],
  ])("after a failed flush, restarts %s", (_why, seekTarget, committedOffset, expected) => {
    expect(restartOffset({ seekTarget, committedOffset })).toBe(expected);
  });
});
