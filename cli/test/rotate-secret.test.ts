import { describe, expect, it } from "vitest";
import { graceSeconds } from "../src/commands/rotate-secret.js";

describe("--grace", () => {
  it.each([
    ["3600", 3600],
    ["90s", 90],
    ["15m", 900],
    ["1h", 3600],
    ["2d", 172_800],
    ["0", 0],
    [" 1h ", 3600],
    ["1.5h", undefined],
    ["-1", undefined],
    ["soon", undefined],
    ["1w", undefined],
  ])("%s → %s", (text, seconds) => {
    expect(graceSeconds(text)).toBe(seconds);
  });
});
