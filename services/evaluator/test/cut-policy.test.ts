import { describe, expect, it } from "vitest";
import { createFoldState, foldStep, type WindowSpec } from "@runhooks/rules";
import { CUT_AFTER_MS, CUT_BYTES, CUT_EVERY, commitPoint, cutDue } from "../src/cut-policy.js";

describe("when a batch is cut", () => {
  it.each([
    // [why, messages since the last cut, bytes of closed windows, ms since the last cut, due]
    ["nothing much read", 10, 1024, 5, false],
    ["just under every bound", CUT_EVERY - 1, CUT_BYTES - 1, CUT_AFTER_MS - 1, false],
    ["enough messages", CUT_EVERY, 0, 0, true],
    ["enough bytes of windows", 1, CUT_BYTES, 0, true],
    ["long enough since the last cut", 1, 0, CUT_AFTER_MS, true],
  ])("%s", (_why, messages, windowBytes, sinceCutMs, due) => {
    expect(cutDue(messages, windowBytes, sinceCutMs)).toBe(due);
  });
});

describe("where a cut commits", () => {
  const spec = (seconds: number): WindowSpec => ({
    ruleId: `r${seconds}`,
    ruleVersion: 1,
    tenantId: "t",
    seconds,
    maxRuns: 100,
  });
  const [S5, S60] = [spec(5), spec(60)];
  const json = new TextEncoder().encode("{}");

  it.each<[string, [offset: number, time: number, matches: WindowSpec[]][], number, number]>([
    // [why, messages folded, next offset, commit point]
    ["no window open: where the next fold starts", [[10, 1000, []]], 11, 11],
    [
      "a window open: its first run",
      [
        [10, 1000, [S5]],
        [11, 2000, [S5]],
        [12, 3000, []],
      ],
      13,
      10,
    ],
    ["an open window's first run past the next offset: the next offset", [[10, 1000, [S5]]], 5, 5],
    [
      "a window closed by time no longer holds it back",
      [
        [10, 1000, [S5]],
        [11, 6000, []],
      ],
      12,
      12,
    ],
    [
      "of two open windows, the older first run",
      [
        [10, 1000, [S60]],
        [11, 6000, [S5]],
      ],
      12,
      10,
    ],
    [
      "the older window closed, the other holds it",
      [
        [10, 1000, [S5]],
        [11, 2000, [S60]],
        [12, 6000, []],
      ],
      13,
      11,
    ],
  ])("%s", (_why, messages, nextOffset, expected) => {
    const fold = createFoldState(0);
    for (const [offset, time, matches] of messages) {
      foldStep(
        fold,
        matches.length === 0
          ? { kind: "time", offset, time }
          : { kind: "run", offset, time, run: { runId: `run-${offset}`, json }, matches },
      );
    }
    expect(commitPoint(fold, nextOffset)).toBe(expected);
  });
});
