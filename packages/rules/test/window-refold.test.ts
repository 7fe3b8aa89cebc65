import { describe, expect, it } from "vitest";
import { refoldFromTime, refoldOffset, versionsNeededFrom } from "@runhooks/rules";

describe("where a restart refolds from", () => {
  it.each([
    // [stream time at the checkpoint, longest window (ms), refold time]
    [60_000, 5_000, 55_000],
    [60_000, 0, 60_000],
    [3_000, 5_000, -2_000],
  ])("refolds from stream time %i minus the longest window %i: %i", (streamTime, longestWindowMs, expected) => {
    expect(refoldFromTime({ streamTime, processedUpTo: 7 }, longestWindowMs)).toBe(expected);
  });

  it.each([
    // [why, committed offset, first offset at the refold time, refold offset]
    ["the refold time is below the commit: from it", 120, 80, 80],
    ["the refold time is past the commit: from the commit", 120, 150, 120],
    ["both at the same offset", 120, 120, 120],
    ["no commit: from the refold time", -1, 80, 80],
    ["no message that recent: from the commit", 120, -1, 120],
    ["neither: from the partition's start", -1, -1, 0],
    ["the commit at the partition's start", 0, 5, 0],
  ])("%s", (_why, committedOffset, offsetAtRefoldTime, expected) => {
    expect(refoldOffset(committedOffset, offsetAtRefoldTime)).toBe(expected);
  });
});

describe("from when rule versions may still be needed", () => {
  const at = (streamTime: number) => ({ streamTime, processedUpTo: 7 });
  it.each([
    // [why, every runs partition's checkpoint, longest window, longest horizon, time (undefined: keep all)]
    ["one partition: its refold start", [at(60_000)], 5_000, 0, 55_000],
    ["the lowest refold start over the partitions", [at(60_000), at(40_000), at(90_000)], 5_000, 0, 35_000],
    ["a trace horizon refolds twice it further back", [at(60_000), at(70_000)], 5_000, 1_000, 53_000],
    ["a partition without a checkpoint: keep every version", [at(60_000), undefined], 5_000, 0, undefined],
    ["no partition known: keep every version", [], 5_000, 0, undefined],
    ["before any window: the checkpoint's own time", [at(60_000)], 0, 0, 60_000],
  ] as const)("%s", (_why, checkpoints, longestWindowMs, longestHorizonMs, expected) => {
    expect(versionsNeededFrom(checkpoints, longestWindowMs, longestHorizonMs)).toBe(expected);
  });
});
