import { describe, expect, it } from "vitest";
import { samplePoint, sampled } from "@runhooks/rules";

/** The documented construction, written the obvious way with BigInt, as a reference. */
function referencePoint(ruleId: string, runId: string): number {
  const mask = (1n << 64n) - 1n;
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(`${ruleId}:${runId}`)) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & mask;
  }
  h ^= h >> 33n;
  h = (h * 0xff51afd7ed558ccdn) & mask;
  h ^= h >> 33n;
  h = (h * 0xc4ceb9fe1a85ec53n) & mask;
  h ^= h >> 33n;
  return Number(h >> 11n) / 2 ** 53;
}

function uuid(n: number, salt: number): string {
  // Distinct, structured ids (as sequential producers would make), not random ones: the hash must spread them.
  const hex = (n * 2654435761 + salt).toString(16).padStart(12, "0").slice(-12);
  return `0190f3a2-${(n & 0xffff).toString(16).padStart(4, "0")}-7000-8000-${hex}`;
}

const RULE = "d75d7417-0c57-4655-88fe-1db3cda3a47a";
const OTHER_RULE = "2ebda79f-2946-4491-a9ad-d642f49e0815";

describe("sampled", () => {
  it("is the documented FNV-1a 64 + fmix64 construction (checked against a BigInt reference)", () => {
    for (const [rule, run] of [
      [RULE, "6ab80f10-d79c-4fa2-b441-922ed6feb630"],
      ["", ""],
      ["r", "é🙂"],
      ["ü", "€𝄞\u07ff\u0800\uffff"],
      [RULE, "\ud800"],
      ...Array.from({ length: 200 }, (_, i) => [RULE, uuid(i, 7)] as const),
    ] as const) {
      expect(samplePoint(rule, run)).toBe(referencePoint(rule, run));
    }
  });

  it("is deterministic: the same pair always gives the same answer", () => {
    for (let i = 0; i < 1000; i++) {
      const run = uuid(i, 1);
      expect(sampled(RULE, run, 0.37)).toBe(sampled(RULE, run, 0.37));
      expect(samplePoint(RULE, run)).toBe(samplePoint(RULE, run));
    }
  });

  it("rate 1 always samples, rate 0 never does", () => {
    for (let i = 0; i < 1000; i++) {
      expect(sampled(RULE, uuid(i, 2), 1)).toBe(true);
      expect(sampled(RULE, uuid(i, 2), 0)).toBe(false);
    }
  });

  it("a run sampled at a rate is sampled at every higher rate", () => {
    for (let i = 0; i < 1000; i++) {
      const run = uuid(i, 3);
      if (sampled(RULE, run, 0.2)) expect(sampled(RULE, run, 0.6)).toBe(true);
    }
  });

  const N = 100_000;
  const runs = Array.from({ length: N }, (_, i) => uuid(i, 4));

  it.each([0.1, 0.5, 0.9])("rate %s: over 100,000 runs the selected fraction is within 0.01 of the rate", (rate) => {
    const selected = runs.filter((run) => sampled(RULE, run, rate)).length;
    expect(Math.abs(selected / N - rate)).toBeLessThan(0.01);
  });

  it("different rules sample (roughly) independent subsets", () => {
    const rate = 0.5;
    let a = 0;
    let b = 0;
    let both = 0;
    for (const run of runs) {
      const inA = sampled(RULE, run, rate);
      const inB = sampled(OTHER_RULE, run, rate);
      if (inA) a += 1;
      if (inB) b += 1;
      if (inA && inB) both += 1;
    }
    // Independent: P(A and B) ≈ P(A)·P(B).
    expect(Math.abs(both / N - (a / N) * (b / N))).toBeLessThan(0.01);
  });

  it("points are spread over [0, 1) (ten equal buckets within ±1%)", () => {
    const buckets = new Array<number>(10).fill(0);
    let outside = 0;
    for (const run of runs) {
      const p = samplePoint(RULE, run);
      if (!(p >= 0 && p < 1)) outside += 1;
      const i = Math.floor(p * 10);
      buckets[i] = (buckets[i] ?? 0) + 1;
    }
    expect(outside).toBe(0);
    for (const count of buckets) expect(Math.abs(count / N - 0.1)).toBeLessThan(0.01);
  });
});
