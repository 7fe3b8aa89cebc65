import { describe, expect, it } from "vitest";
import type { Claimant } from "@runhooks/db";
import { decideReaping } from "../src/reap-decision.js";

const NOW = Date.parse("2026-12-06T10:00:00Z");
const GRACE = 2000;
/** A claimant whose earliest lease ends `leaseInMs` from now (negative: expired). */
const c = (instanceId: string | null, alive: boolean, leaseInMs = 5000): Claimant => ({
  instanceId,
  claims: 3,
  earliestLeaseUntil: new Date(NOW + leaseInMs),
  alive,
});
/** Instances whose lock this reaper saw free `msAgo` before now. */
const seen = (entries: Record<string, number>) =>
  new Map(Object.entries(entries).map(([id, msAgo]) => [id, NOW - msAgo]));

describe("decideReaping: which claims a reaper takes back", () => {
  it.each<
    [string, Claimant[], Record<string, number>, { dead: string[]; expired: boolean; free: Record<string, number> }]
  >([
    ["nothing in flight: nothing to do", [], {}, { dead: [], expired: false, free: {} }],
    [
      "live instances within their leases: nothing",
      [c("a", true), c("self", true)],
      {},
      { dead: [], expired: false, free: {} },
    ],
    [
      "a lock seen free for the first time: the grace starts",
      [c("a", false, 60_000)],
      {},
      { dead: [], expired: false, free: { a: 0 } },
    ],
    [
      "free for less than the grace: still waiting",
      [c("a", false, 60_000)],
      { a: GRACE - 1 },
      { dead: [], expired: false, free: { a: GRACE - 1 } },
    ],
    [
      "free for the grace: dead, however long its leases run",
      [c("a", false, 60_000), c("b", true)],
      { a: GRACE },
      { dead: ["a"], expired: false, free: { a: GRACE } },
    ],
    [
      "every dead instance, in order",
      [c("a", false), c("b", true), c("c", false)],
      { a: 5000, c: 3000 },
      { dead: ["a", "c"], expired: false, free: { a: 5000, c: 3000 } },
    ],
    [
      "held again (the process took its lock back): forgotten",
      [c("a", true)],
      { a: 1000 },
      { dead: [], expired: false, free: {} },
    ],
    ["an instance with no claims left is forgotten", [], { a: 1000 }, { dead: [], expired: false, free: {} }],
    [
      "a time seen in the future (clock step) counts from now",
      [c("a", false)],
      { a: -5000 },
      { dead: [], expired: false, free: { a: 0 } },
    ],
    [
      "a dead instance whose lease expired too: reaped as dead (one statement)",
      [c("a", false, -1000)],
      { a: GRACE },
      { dead: ["a"], expired: false, free: { a: GRACE } },
    ],
    [
      "within the grace, an expired lease still follows the lease rule",
      [c("a", false, -1)],
      { a: 10 },
      { dead: [], expired: true, free: { a: 10 } },
    ],
    [
      "a live instance's expired lease: the lease rule (a stall, or cut off from Postgres)",
      [c("a", true, -1)],
      {},
      { dead: [], expired: true, free: {} },
    ],
    ["a lease ending exactly now has not expired", [c("a", true, 0)], {}, { dead: [], expired: false, free: {} }],
    [
      "this process' own claims are never reaped by liveness, even when its lock shows free",
      [c("self", false)],
      { self: 60_000 },
      { dead: [], expired: false, free: {} },
    ],
    ["its own expired leases follow the lease rule", [c("self", false, -1)], {}, { dead: [], expired: true, free: {} }],
    [
      "claims with no instance id (null) follow the lease rule only",
      [c(null, false)],
      {},
      { dead: [], expired: false, free: {} },
    ],
    [
      "claims with an empty instance id follow the lease rule only",
      [c("", false, -1)],
      {},
      { dead: [], expired: true, free: {} },
    ],
    [
      "dead and expired at once: both",
      [c("a", false), c("b", true, -500)],
      { a: GRACE },
      { dead: ["a"], expired: true, free: { a: GRACE } },
    ],
  ])("%s", (_name, claimants, freeBefore, want) => {
    const decision = decideReaping({
      self: "self",
      snapshot: { now: new Date(NOW), claimants },
      freeSince: seen(freeBefore),
      graceMs: GRACE,
    });
    expect(decision).toEqual({ deadInstances: want.dead, leasesExpired: want.expired, freeSince: seen(want.free) });
  });

  it("with no grace, a free lock is dead at first sight", () => {
    const decision = decideReaping({
      self: "self",
      snapshot: { now: new Date(NOW), claimants: [c("a", false)] },
      freeSince: new Map(),
      graceMs: 0,
    });
    expect(decision.deadInstances).toEqual(["a"]);
  });
});
