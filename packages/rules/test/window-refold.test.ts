import { describe, expect, it } from "vitest";
import { refoldFromTime, refoldOffset } from "@runhooks/rules";

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
