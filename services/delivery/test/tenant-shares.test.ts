import { describe, expect, it } from "vitest";
import { fairShares, tenantHoldCap } from "../src/tenant-shares.js";

const shares = (demand: Record<string, number>, capacity: number) => Object.fromEntries(fairShares(new Map(Object.entries(demand)), capacity));

describe("fairShares: in-flight slots between tenants (max-min fair)", () => {
  it.each<[string, Record<string, number>, number, Record<string, number>]>([
    ["one tenant takes what it needs", { a: 100 }, 512, { a: 100 }],
    ["one tenant with a huge backlog takes every slot", { a: 10_000 }, 512, { a: 512 }],
    ["a huge backlog beside a small one: the small one gets all it needs", { a: 10_000, b: 3 }, 512, { a: 509, b: 3 }],
    ["two huge backlogs: half each", { a: 10_000, b: 5000 }, 512, { a: 256, b: 256 }],
    ["three: equal, the remainder by name", { a: 1000, b: 1000, c: 1000 }, 512, { a: 171, b: 171, c: 170 }],
    ["a small demand's leftover goes to the others", { a: 1000, b: 1000, c: 12 }, 512, { a: 250, b: 250, c: 12 }],
    ["demands below capacity are met exactly", { a: 10, b: 20, c: 30 }, 512, { a: 10, b: 20, c: 30 }],
    ["a tenant with no demand gets nothing", { a: 0, b: 600 }, 512, { a: 0, b: 512 }],
    ["fewer slots than tenants: one each by name", { a: 5, b: 5, c: 5 }, 2, { a: 1, b: 1, c: 0 }],
    ["no capacity", { a: 5 }, 0, { a: 0 }],
  ])("%s", (_name, demand, capacity, expected) => {
    expect(shares(demand, capacity)).toEqual(expected);
  });

  it("never gives more than asked or than there is, and wastes no slot anyone wants", () => {
    let seed = 7;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    for (let round = 0; round < 500; round++) {
      const demand = new Map<string, number>();
      for (let t = 0; t < 1 + (next() % 8); t++) demand.set(`t${t}`, next() % 700);
      const capacity = next() % 600;
      const got = fairShares(demand, capacity);
      const total = [...got.values()].reduce((a, b) => a + b, 0);
      const wanted = [...demand.values()].reduce((a, b) => a + b, 0);
      expect(total).toBe(Math.min(capacity, wanted));
      for (const [t, d] of demand) expect(got.get(t)!).toBeLessThanOrEqual(d);
      // Max-min: a tenant short of its demand has at least as much as any other, less one (rounding).
      for (const [t, d] of demand) {
        if (got.get(t)! < d) for (const other of got.values()) expect(got.get(t)!).toBeGreaterThanOrEqual(other - 1);
      }
    }
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
