import { describe, expect, it } from "vitest";
import { deadlineVerdict, stallToleranceMs, type DeadlineFacts } from "../src/deadline-verdict.js";

const base: DeadlineFacts = {
  deadlineMs: 5000,
  startedAt: 1000,
  now: 6000,
  stalledMs: 0,
  responded: false,
  statusArrived: false,
  socketRead: false,
};

describe("deadlineVerdict: what a deadline timer means when it fires", () => {
  it.each<[string, Partial<DeadlineFacts>, ReturnType<typeof deadlineVerdict>]>([
    [
      "an answer arrived: it stands, whatever the clock says",
      { responded: true, now: 20_000, stalledMs: 14_000 },
      { kind: "answered" },
    ],
    ["an answer arrived while the verdict was deferred", { responded: true, socketRead: true }, { kind: "answered" }],
    ["the timer fired early: wait the rest", { now: 5990 }, { kind: "wait", ms: 10 }],
    ["on time: read the socket first", {}, { kind: "read_first" }],
    ["on time, socket read, nothing: timeout", { socketRead: true }, { kind: "timeout" }],
    [
      "ordinary lag (300 ms late) is still a timeout",
      { now: 6300, stalledMs: 300, socketRead: true },
      { kind: "timeout" },
    ],
    ["lag at the tolerance is still a timeout", { now: 7250, socketRead: true }, { kind: "timeout" }],
    [
      "paused 8 s over the deadline, nothing in the socket: interrupted",
      { now: 14_000, stalledMs: 8000, socketRead: true },
      { kind: "interrupted", stalledMs: 8000 },
    ],
    [
      "the timer fired 3 s late (stall not yet observed): interrupted",
      { now: 9000, socketRead: true },
      { kind: "interrupted", stalledMs: 3000 },
    ],
    [
      "paused 4 s early on, timer on time: the endpoint was not watched, interrupted",
      { now: 6000, stalledMs: 4000, socketRead: true },
      { kind: "interrupted", stalledMs: 4000 },
    ],
    [
      "paused, the status arrived, the body not yet: judged by the status",
      { now: 14_000, stalledMs: 8000, socketRead: true, statusArrived: true },
      { kind: "by_status" },
    ],
    [
      "no stall, the status arrived, the body did not complete: timeout",
      { socketRead: true, statusArrived: true },
      { kind: "timeout" },
    ],
    [
      "paused but not yet read: read first, never judge unread",
      { now: 14_000, stalledMs: 8000 },
      { kind: "read_first" },
    ],
  ])("%s", (_name, facts, verdict) => {
    expect(deadlineVerdict({ ...base, ...facts })).toEqual(verdict);
  });

  it.each([
    [100, 1000],
    [1000, 1000],
    [5000, 1250],
    [60_000, 15_000],
  ])("tolerates a stall of a quarter of the deadline, at least 1 s (deadline %i → %i)", (deadline, tolerance) => {
    expect(stallToleranceMs(deadline)).toBe(tolerance);
  });

  it("never fails an attempt that got an answer, and never times out after a stall past the tolerance", () => {
    for (let stalled = 0; stalled <= 20_000; stalled += 250) {
      for (const late of [0, 100, 2000, 9000]) {
        const facts = { ...base, now: base.startedAt + base.deadlineMs + late, stalledMs: stalled, socketRead: true };
        expect(deadlineVerdict({ ...facts, responded: true }).kind).toBe("answered");
        const v = deadlineVerdict(facts).kind;
        if (Math.max(stalled, late) > stallToleranceMs(base.deadlineMs)) expect(v).toBe("interrupted");
        else expect(v).toBe("timeout");
      }
    }
  });
});
