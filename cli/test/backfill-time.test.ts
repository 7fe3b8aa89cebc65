import { describe, expect, it } from "vitest";
import { parseTime } from "../src/commands/backfill.js";

describe("backfill times", () => {
  const now = Date.parse("2026-03-10T12:00:00Z");
  it.each([
    ["2d", "2026-03-08T12:00:00.000Z"],
    ["36h", "2026-03-09T00:00:00.000Z"],
    ["90m", "2026-03-10T10:30:00.000Z"],
    ["45s", "2026-03-10T11:59:15.000Z"],
    ["1w", "2026-03-03T12:00:00.000Z"],
    ["2026-03-01T00:00:00+01:00", "2026-02-28T23:00:00.000Z"],
  ])("reads %s", (value, expected) => expect(parseTime(value, now)).toBe(expected));

  it("refuses what is neither an age nor a time, saying what is", () => {
    expect(() => parseTime("2 days", now)).toThrow(/an ISO 8601 time or an age such as 2d/);
  });
});
