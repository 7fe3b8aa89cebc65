import { describe, expect, it } from "vitest";
import { nextWholeSecond, tickDue, type TickFacts } from "../src/idle-ticks.js";

describe("when an idle partition gets a tick", () => {
  const interval = 200;
  /** Folding, read last at 4000 with stream time 3500, a window open until 5000. */
  const base: TickFacts = { phase: "active", tickInFlight: false, streamTime: 3500, nextClose: 5000, lastReadAt: 4000 };
  const idle: TickFacts = { ...base, nextClose: undefined };
  const unstarted: TickFacts = {
    phase: "unstarted",
    tickInFlight: false,
    streamTime: Number.NEGATIVE_INFINITY,
    nextClose: undefined,
    lastReadAt: 4000,
  };

  it.each<[string, TickFacts, number, boolean, boolean]>([
    // [why, partition, now, a rule in force, due]
    ["an open window past its end on the wall clock", base, 5000, false, true],
    ["an open window past its end, even with no rule in force (the rule was deleted)", base, 5000, false, true],
    ["no window due, no rule in force", idle, 10_000, false, false],
    ["a rule in force, the wall clock past the next whole second after its stream time", idle, 4200, true, true],
    [
      "a rule in force, the wall clock short of the next whole second",
      { ...idle, streamTime: 4050 },
      4999,
      true,
      false,
    ],
    ["a rule in force, at the next whole second exactly", { ...idle, streamTime: 4050 }, 5000, true, true],
    ["read from too recently", { ...idle, lastReadAt: 4900 }, 5000, true, false],
    ["a tick already on its way", { ...base, tickInFlight: true }, 10_000, true, false],
    ["waiting for its seek", { ...base, phase: "seeking" }, 10_000, true, false],
    ["assigned, no batch yet, a rule in force", unstarted, 4200, true, true],
    ["assigned, no batch yet, ticked too recently", unstarted, 4100, true, false],
    ["assigned, no batch yet, no rule in force", unstarted, 10_000, false, false],
  ])("%s", (_why, facts, now, inForce, due) => {
    expect(tickDue(facts, now, interval, inForce)).toBe(due);
  });

  it.each([
    [3500, 4000],
    [4000, 5000],
    [4999, 5000],
    [0, 1000],
    [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY],
  ])("the next whole second after stream time %d is %d", (streamTime, expected) => {
    expect(nextWholeSecond(streamTime)).toBe(expected);
  });
});
