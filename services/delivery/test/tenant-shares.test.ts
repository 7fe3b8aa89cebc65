import { describe, expect, it } from "vitest";
import { mayStart, tenantHoldCap, tenantSlotCap } from "../src/tenant-shares.js";

describe("tenantSlotCap and mayStart: in-flight slots between tenants", () => {
  it.each([
    // concurrency, tenants with work → cap
    [512, 1, 512],
    [512, 2, 256],
    [512, 3, 171],
    [512, 0, 512],
    [2, 3, 1],
    [1, 1, 1],
  ])("concurrency %i, %i tenants with work → %i each first", (concurrency, tenants, cap) => {
    expect(tenantSlotCap(concurrency, tenants)).toBe(cap);
  });

  it.each<[number, number, "fair" | "spare", boolean]>([
    [0, 256, "fair", true],
    [255, 256, "fair", true],
    [256, 256, "fair", false],
    [500, 256, "fair", false],
    [500, 256, "spare", true],
  ])("active %i, cap %i, %s round → %s", (active, cap, round, may) => {
    expect(mayStart(active, cap, round)).toBe(may);
  });

  it("a tenant holding every slot gives each freed slot to a newcomer until it has its part", () => {
    // 512 slots, all tenant a's; b arrives with 5,000 waiting. Each freed slot is offered in a fair
    // round first (b, under its cap), then a spare one (a).
    const active = new Map([
      ["a", 512],
      ["b", 0],
    ]);
    const waiting = new Map([
      ["a", 10_000],
      ["b", 5000],
    ]);
    for (let freed = 0; freed < 2000; freed++) {
      // One of a's attempts ends while a is over its part, else one of b's.
      const ender = active.get("a")! > 256 || active.get("b") === 0 ? "a" : "b";
      active.set(ender, active.get(ender)! - 1);
      const cap = tenantSlotCap(512, 2);
      const next =
        ["a", "b"].find((t) => waiting.get(t)! > 0 && mayStart(active.get(t)!, cap, "fair")) ??
        ["a", "b"].find((t) => waiting.get(t)! > 0 && mayStart(active.get(t)!, cap, "spare"))!;
      active.set(next, active.get(next)! + 1);
      waiting.set(next, waiting.get(next)! - 1);
    }
    expect(active.get("b")).toBe(256);
    expect(active.get("a")).toBe(256);
  });
});

describe("tenantHoldCap: how many deliveries one tenant may hold", () => {
  it.each([
    // held capacity, tenants holding → cap
    [1024, 1, 896], // alone: all but the newcomers' eighth
    [1024, 2, 448],
    [1024, 7, 128],
    [1024, 1000, 1],
    [8, 1, 7],
    [2, 1, 2],
  ])("capacity %i, %i tenants holding → %i", (capacity, holding, cap) => {
    expect(tenantHoldCap(capacity, holding)).toBe(cap);
  });

  it("leaves room for a tenant holding nothing (while there are fewer tenants than room to hold)", () => {
    for (const capacity of [16, 128, 1024, 20_000]) {
      for (let holding = 1; holding <= Math.min(64, capacity - Math.floor(capacity / 8)); holding++) {
        expect(capacity - holding * tenantHoldCap(capacity, holding)).toBeGreaterThanOrEqual(Math.floor(capacity / 8));
      }
    }
  });
});
