import { describe, expect, it } from "vitest";
import { createStreamState, streamStep, type TraceSpec, type WindowSpec } from "@runhooks/rules";
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
  /** A trace-aware rule's candidate: it waits for its trace's root (none comes here) for 30 s. */
  const HELD: TraceSpec = { window: spec(1), horizonMs: 30_000, needsRoot: true, needsTree: false };
  const json = new TextEncoder().encode("{}");

  type Message = [offset: number, time: number, matches: (WindowSpec | TraceSpec)[]];
  it.each<[string, Message[], number, number]>([
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
    [
      "a candidate waiting for its trace holds it, though no window is open",
      [
        [10, 1000, [HELD]],
        [11, 6000, []],
      ],
      12,
      10,
    ],
    [
      "a candidate whose horizon passed no longer holds it",
      [
        [10, 1000, [HELD]],
        [11, 31_000, []],
      ],
      12,
      12,
    ],
  ])("%s", (_why, messages, nextOffset, expected) => {
    const state = createStreamState(0);
    for (const [offset, time, all] of messages) {
      const matches = all.filter((m): m is WindowSpec => "ruleId" in m);
      const held = all.filter((m): m is TraceSpec => "window" in m);
      streamStep(
        state,
        all.length === 0
          ? { kind: "time", offset, time }
          : {
              kind: "run",
              offset,
              time,
              run: { runId: `run-${offset}`, json },
              matches,
              trace: {
                key: `t/${offset}`,
                verdicts: held.map((spec) => ({ spec, candidate: true, tree: false, root: undefined })),
              },
            },
      );
    }
    expect(commitPoint(state, nextOffset)).toBe(expected);
  });
});
