import { describe, expect, it } from "vitest";
import { DEFAULT_API_LIMITS } from "../src/limits.js";
import { decideReplayRange, describeDuration } from "../src/replay-range.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe("the replay-range quota", () => {
  it.each([
    [0, 1, 7 * DAY, { ok: true }],
    [0, 7 * DAY, 7 * DAY, { ok: true }],
    [0, 7 * DAY + 1, 7 * DAY, { ok: false, rangeMs: 7 * DAY + 1, maxMs: 7 * DAY }],
    [DAY, 31 * DAY, 7 * DAY, { ok: false, rangeMs: 30 * DAY, maxMs: 7 * DAY }],
    [0, HOUR, HOUR, { ok: true }],
    [0, 2 * HOUR, HOUR, { ok: false, rangeMs: 2 * HOUR, maxMs: HOUR }],
  ])("[%i, %i) with a limit of %i ms: %j", (from, to, max, expected) => {
    expect(decideReplayRange(from, to, max)).toEqual(expected);
  });

  it("defaults to 7 days", () => {
    expect(DEFAULT_API_LIMITS.maxReplayRangeMs).toBe(7 * DAY);
  });

  it.each([
    [7 * DAY, "7 days"],
    [30 * DAY, "30 days"],
    [2 * DAY + 12 * HOUR, "2.5 days"],
    [36 * HOUR, "36 hours"],
    [HOUR, "60 minutes"],
    [90_000, "90 s"],
    [150_000, "2.5 minutes"],
    [12_500, "12.5 s"],
  ])("describes %i ms as %s", (ms, text) => {
    expect(describeDuration(ms)).toBe(text);
  });
});
