import { describe, expect, it } from "vitest";
import { timeOf } from "../src/commands/recover.js";

const NOW = Date.parse("2024-04-05T12:00:00.000Z");

describe("--since and --until of deliveries recover", () => {
  it.each([
    ["90s", "2024-04-05T11:58:30.000Z"],
    ["30m", "2024-04-05T11:30:00.000Z"],
    ["2h", "2024-04-05T10:00:00.000Z"],
    ["1d", "2024-04-04T12:00:00.000Z"],
    ["2024-04-05T09:00:00Z", "2024-04-05T09:00:00.000Z"],
    ["2024-04-05T11:00:00+02:00", "2024-04-05T09:00:00.000Z"],
    ["yesterday", undefined],
    ["2h ago", undefined],
    ["2024-04-05", undefined],
  ])("%s → %s", (value, expected) => {
    expect(timeOf(value, NOW)).toBe(expected);
  });
});
