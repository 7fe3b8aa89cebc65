import { describe, expect, it } from "vitest";
import { createStallLog } from "../src/stall-log.js";

/** Ticks every 100 ms from 0 (the ticker's interval) up to and including `until`. */
const regular = (until: number) => Array.from({ length: until / 100 }, (_, i) => (i + 1) * 100);

describe("the stall log: how much stall fell after a mark", () => {
  it.each<[string, number[], number, number, number]>([
    // name, tick times, mark, now → stalled ms
    ["no stall", regular(1000), 150, 1050, 0],
    ["jitter within the slack is no stall", [100, 240, 390], 0, 400, 0],
    ["a stall ended by a tick, all after the mark", [100, 200, 1200], 150, 1210, 900],
    ["a stall ended by a tick, partly after the mark", [100, 200, 1200], 700, 1210, 500],
    ["a stall ended before the mark", [100, 200, 1200, 1300], 1250, 1310, 0],
    ["a stall going on, no tick yet", [100, 200], 150, 1000, 650],
    ["a stall going on, counted from the mark", [100, 200], 900, 1000, 100],
    ["two stalls, both after the mark", [100, 400, 500, 900], 50, 910, 200 + 300],
    ["a stall ended by a tick and another going on", [100, 400], 50, 1000, 200 + 450],
  ])("%s → %i ms", (_name, ticks, mark, now, stalled) => {
    const log = createStallLog(0);
    for (const t of ticks) log.tick(t);
    expect(log.stalledSince(mark, now)).toBe(stalled);
  });

  it("keeps the latest 256 stalls", () => {
    const log = createStallLog(0);
    // 300 ticks 200 ms apart: each ends a stall of 100 ms.
    for (let i = 1; i <= 300; i++) log.tick(i * 200);
    expect(log.stalledSince(0, 60_000)).toBe(256 * 100);
  });
});
