import { describe, expect, it } from "vitest";
import { LANE_IDLE_MS, RATE_PERIOD_MS, createLaneTable, type LaneTable } from "../src/lane-table.js";

// 8 slots, 2 per origin: the process holds at most 16, a lane 8 (4 × 2), a fast lane 16 (8 × 2).
const LIMITS = { concurrency: 8, originConcurrency: 2 };
const T0 = 1_000_000;

interface TestJob {
  readonly id: string;
  readonly delivery: { readonly origin: string; readonly tenantId: string };
}

let ids = 0;
const job = (origin: string, tenantId = "t"): TestJob => ({ id: `j${++ids}`, delivery: { origin, tenantId } });

/** Reserves room for `n` deliveries of the lane and queues them, as the window reader and `adopt` do. */
function queue(table: LaneTable<TestJob>, origin: string, n: number, tenantId = "t", now = T0): TestJob[] {
  const jobs: TestJob[] = [];
  for (let i = 0; i < n; i++) {
    expect(table.reserve(origin, tenantId, now)).toBe(true);
    const j = job(origin, tenantId);
    table.enqueue(j, now);
    jobs.push(j);
  }
  return jobs;
}

function startAll(table: LaneTable<TestJob>, origin: string): TestJob[] {
  const started: TestJob[] = [];
  for (let j = table.startNext(origin, "fair"); j !== undefined; j = table.startNext(origin, "fair")) started.push(j);
  return started;
}

/** Makes the lane of `origin` end `perSecond` attempts a second over one rate period. */
function measureRate(table: LaneTable<TestJob>, origin: string, perSecond: number): number {
  const ends = Math.round((perSecond * RATE_PERIOD_MS) / 1000);
  let now = T0;
  for (let i = 0; i < ends; i++) {
    queue(table, origin, 1, "t", now);
    const [j] = startAll(table, origin);
    now = T0 + ((i + 1) * RATE_PERIOD_MS) / ends;
    table.end(j!, now);
  }
  return now;
}

describe("the lane table: room to hold", () => {
  it.each([
    // what is reserved (origin:tenant × n) → how many are granted, held after
    ["one lane holds 4 × its concurrency", [["a", "t", 10]], 8, 8],
    [
      "two lanes each hold their own",
      [
        ["a", "t", 5],
        ["b", "u", 5],
      ],
      10,
      10,
    ],
    ["the process holds 2 × its concurrency", Array.from({ length: 20 }, (_, i) => [`o${i}`, `t${i}`, 1]), 16, 16],
    // 16 held, 2 kept for newcomers: one tenant alone holds at most 14.
    ["one tenant leaves room to newcomers", Array.from({ length: 20 }, (_, i) => [`o${i}`, "t", 1]), 14, 14],
  ] as [string, [string, string, number][], number, number][])("%s", (_name, reservations, granted, held) => {
    const table = createLaneTable<TestJob>(LIMITS);
    let ok = 0;
    for (const [origin, tenant, n] of reservations)
      for (let i = 0; i < n; i++) if (table.reserve(origin, tenant, T0)) ok++;
    expect(ok).toBe(granted);
    expect(table.held).toBe(held);
  });

  it.each([
    // reserved, released → gave back, held after
    [3, 2, true, 1],
    [3, 0, false, 3],
  ])("reserved %i, released %i → %s, %i held", (reserved, released, gaveBack, held) => {
    const table = createLaneTable<TestJob>(LIMITS);
    for (let i = 0; i < reserved; i++) table.reserve("a", "t", T0);
    expect(table.release({ origin: "a", tenantId: "t" }, released)).toBe(gaveBack);
    expect(table.held).toBe(held);
  });

  it("gives back nothing for a lane it does not have", () => {
    const table = createLaneTable<TestJob>(LIMITS);
    expect(table.release({ origin: "nowhere", tenantId: "t" }, 1)).toBe(false);
    expect(table.held).toBe(0);
  });

  it("counts a fast lane's room at the deeper depth", () => {
    const table = createLaneTable<TestJob>(LIMITS);
    const now = measureRate(table, "a", 200);
    let ok = 0;
    for (let i = 0; i < 20; i++) if (table.reserve("a", "t", now)) ok++;
    expect(ok).toBe(14); // the lane would take 16; the tenant's cap is 14
  });
});

describe("the lane table: claims", () => {
  it.each([
    // held before, reader waiting → limit
    [0, false, 16],
    [0, true, 8],
    [5, false, 11],
    [5, true, 6],
  ])("%i held, reader waiting %s → claims at most %i", (heldBefore, readerWaiting, limit) => {
    const table = createLaneTable<TestJob>(LIMITS);
    for (let i = 0; i < heldBefore; i++) table.reserve(`o${i}`, `t${i}`, T0);
    expect(table.beginClaim(readerWaiting).limit).toBe(limit);
  });

  it("reserves every lane's room and the limit while the claim is in flight, then swaps it for what came", () => {
    const table = createLaneTable<TestJob>({ concurrency: 16, originConcurrency: 2 });
    queue(table, "a", 3);
    queue(table, "full", 8, "u");
    const ticket = table.beginClaim(false);
    expect(ticket).toMatchObject({ limit: 21, defaultRoom: 8 });
    expect([...ticket.originRoom]).toEqual([
      ["a", 5],
      ["full", 0],
    ]);
    expect(table.held).toBe(32);
    // While it is in flight the reader finds no room: not in a lane the claim fills, nor a new lane.
    expect(table.reserve("a", "t", T0)).toBe(false);
    expect(table.reserve("new", "v", T0)).toBe(false);
    const roomOpened = table.endClaim(
      ticket,
      [
        { origin: "a", tenantId: "t" },
        { origin: "b", tenantId: "t" },
      ],
      T0,
    );
    expect(roomOpened).toBe(true);
    expect(table.held).toBe(13);
    expect(table.beginClaim(false).originRoom.get("b")).toBe(7);
  });

  it.each([
    // a claim in flight, the origin has a lane → the reader may reserve
    [false, false, true],
    [false, true, true],
    [true, true, false], // the claim holds the lane's room
    [true, false, false], // the claim may be starting that lane
  ])("claim in flight %s, lane known %s → reserve: %s", (inFlight, known, granted) => {
    const table = createLaneTable<TestJob>({ concurrency: 16, originConcurrency: 8 });
    if (known) table.release({ origin: "a", tenantId: "t" }, Number(table.reserve("a", "t", T0)));
    // The reader waits: the claim takes half the room, so the process is not full.
    if (inFlight) expect(table.beginClaim(true).limit).toBe(16);
    expect(table.reserve("a", "v", T0)).toBe(granted);
  });

  it.each([
    // limit, claimed → room opened
    [3, 3, false],
    [3, 2, true],
    [3, 0, true],
  ])("a claim of limit %i that got %i opens room: %s", (limit, got, opened) => {
    const table = createLaneTable<TestJob>({ concurrency: 8, originConcurrency: 8 });
    for (let i = 0; i < 16 - limit; i++) table.reserve(`o${i}`, `t${i}`, T0);
    const ticket = table.beginClaim(false);
    expect(ticket.limit).toBe(limit);
    const claimed = Array.from({ length: got }, () => ({ origin: "c", tenantId: "x" }));
    expect(table.endClaim(ticket, claimed, T0)).toBe(opened);
  });
});

describe("the lane table: starting and ending attempts", () => {
  it.each([
    // queued per origin → started per origin (2 per origin, 8 in all)
    ["a lane starts at most its concurrency", [["a", 5]], [2]],
    [
      "each lane its own",
      [
        ["a", 5],
        ["b", 1],
      ],
      [2, 1],
    ],
    [
      "the process at most its concurrency",
      [
        ["a", 2],
        ["b", 2],
        ["c", 2],
        ["d", 2],
        ["e", 2],
      ],
      [2, 2, 2, 2, 0],
    ],
  ] as [string, [string, number][], number[]][])("%s", (_name, queued, started) => {
    const table = createLaneTable<TestJob>(LIMITS);
    for (const [origin, n] of queued) queue(table, origin, n, origin);
    expect(queued.map(([origin]) => startAll(table, origin).length)).toEqual(started);
    expect(table.inFlight).toBe(started.reduce((a, b) => a + b, 0));
  });

  it("starts in queue order, skipping in the fair round a tenant over its part of the slots", () => {
    const table = createLaneTable<TestJob>({ concurrency: 2, originConcurrency: 2 });
    const [a1, a2] = queue(table, "a", 2, "big");
    const [b1] = queue(table, "a", 1, "small");
    expect(table.startNext("a", "fair")).toBe(a1);
    // Two tenants with work: one slot each first.
    expect(table.startNext("a", "fair")).toBe(b1);
    table.end(a1!, T0);
    table.end(b1!, T0);
    queue(table, "b", 1, "small");
    expect(table.startNext("a", "fair")).toBe(a2);
    expect(table.startNext("b", "fair")).toBeDefined();
  });

  it("lets the spare round use a slot the fair round left", () => {
    const table = createLaneTable<TestJob>({ concurrency: 2, originConcurrency: 2 });
    queue(table, "a", 2, "big");
    queue(table, "b", 1, "small");
    expect(table.startNext("a", "fair")).toBeDefined();
    expect(table.startNext("a", "fair")).toBeUndefined(); // "big" has its part (1 of 2)
    expect(table.startNext("a", "spare")).toBeDefined();
  });

  it.each([
    // held after the end → wakes the claim loop (its threshold: 16 − 4 held free)
    [13, true], // 12 held after: 4 free
    [14, false],
    [10, false],
  ])("an attempt ending with %i held wakes claims: %s", (heldBefore, wakes) => {
    const table = createLaneTable<TestJob>({ concurrency: 8, originConcurrency: 8 });
    const [first] = queue(table, "a", 1);
    for (let i = 1; i < heldBefore; i++) table.reserve(`o${i}`, `t${i}`, T0);
    table.startNext("a", "fair");
    // The lane's room after the end (32) is never its threshold (16): only the process' room counts.
    expect(table.end(first!, T0)).toEqual({ wakeClaims: wakes });
  });

  it("wakes claims when a lane's room reaches twice its concurrency", () => {
    const table = createLaneTable<TestJob>(LIMITS);
    const jobs = queue(table, "a", 6);
    const [first] = startAll(table, "a");
    // 6 held in a lane of 8: room 2 → 3 after the end; then 4 once another ends.
    expect(table.end(first!, T0)).toEqual({ wakeClaims: false });
    const [second] = startAll(table, "a");
    expect(second).toBe(jobs[2]);
    expect(table.end(jobs[1]!, T0)).toEqual({ wakeClaims: true });
  });

  it("lists the held jobs in flight first, and gives back the unstarted when stopping", () => {
    const table = createLaneTable<TestJob>(LIMITS);
    const jobs = queue(table, "a", 4);
    startAll(table, "a");
    expect(table.jobs()).toEqual(jobs);
    expect(table.waitingOrigins()).toEqual(["a"]);
    expect(table.takeUnstarted()).toEqual(jobs.slice(2));
    expect(table.held).toBe(2);
    expect(table.waitingOrigins()).toEqual([]);
  });
});

describe("the lane table: worth waiting for", () => {
  it.each([
    ["no lane yet: worth it", () => createLaneTable<TestJob>(LIMITS), T0, true],
    [
      "a lane with room: worth it",
      () => {
        const t = createLaneTable<TestJob>(LIMITS);
        queue(t, "a", 3);
        return t;
      },
      T0,
      true,
    ],
    [
      "a full lane, no rate measured yet: worth it",
      () => {
        const t = createLaneTable<TestJob>(LIMITS);
        queue(t, "a", 8);
        return t;
      },
      T0,
      true,
    ],
    [
      "a full slow lane: not worth it",
      () => {
        const t = createLaneTable<TestJob>(LIMITS);
        const now = measureRate(t, "a", 20);
        queue(t, "a", 8, "u", now);
        return t;
      },
      T0 + RATE_PERIOD_MS,
      false,
    ],
    [
      "a full lane whose attempts ended nothing for 4 rate periods: not worth it",
      () => {
        const t = createLaneTable<TestJob>(LIMITS);
        queue(t, "a", 8, "u");
        startAll(t, "a");
        return t;
      },
      T0 + 4 * RATE_PERIOD_MS + 1,
      false,
    ],
  ] as [string, () => LaneTable<TestJob>, number, boolean][])("%s", (_name, make, now, worth) => {
    expect(make().worthWaiting("a", "w", now)).toBe(worth);
  });

  it("a full fast lane is worth waiting for; a tenant at its hold cap is not", () => {
    const t = createLaneTable<TestJob>({ concurrency: 64, originConcurrency: 2 });
    const now = measureRate(t, "a", 200);
    queue(t, "a", 16, "u", now);
    expect(t.worthWaiting("a", "w", now)).toBe(true);
    const capped = createLaneTable<TestJob>(LIMITS);
    queue(capped, "b", 7, "t");
    queue(capped, "c", 7, "t");
    expect(capped.worthWaiting("a", "t", T0)).toBe(false);
  });
});

describe("the lane table: idle lanes", () => {
  it.each([
    // what the lane holds, ms since it was last used → still there
    ["nothing", LANE_IDLE_MS + 1, false],
    ["nothing", LANE_IDLE_MS, true],
    ["a reservation", LANE_IDLE_MS + 1, true],
    ["a waiting job", LANE_IDLE_MS + 1, true],
  ] as [string, number, boolean][])("holding %s, idle %i ms → kept: %s", (holds, idleMs, kept) => {
    const table = createLaneTable<TestJob>(LIMITS);
    if (holds === "a reservation") table.reserve("a", "t", T0);
    else if (holds === "a waiting job") queue(table, "a", 1);
    else {
      queue(table, "a", 1);
      table.end(startAll(table, "a")[0]!, T0);
    }
    table.dropIdle(T0 + idleMs);
    expect(table.beginClaim(false).originRoom.has("a")).toBe(kept);
  });
});
