import { describe, expect, it } from "vitest";
import { createHeldRuns, lifetimeClassOf, TRACE_CLASS } from "../src/held-runs.js";

const bytes = (n: number, fill: number) => Buffer.alloc(n, fill);

describe("the copies of held runs", () => {
  it("are equal to the value, independent of it, and packed one after the other per class", () => {
    const held = createHeldRuns(100, 40);
    const source = bytes(30, 1);
    const a = held.copy(source, 3);
    source.fill(9);
    expect([...a]).toEqual(Array(30).fill(1));
    const b = held.copy(bytes(30, 2), 3);
    const other = held.copy(bytes(30, 3), TRACE_CLASS);
    expect(b.buffer).toBe(a.buffer);
    expect(b.byteOffset).toBe(a.byteOffset + 30);
    expect(other.buffer).not.toBe(a.buffer);
    // The class's slab is full: a new one; what was copied stays.
    const c = held.copy(bytes(30, 4), 3);
    const d = held.copy(bytes(30, 5), 3);
    expect(c.buffer).toBe(a.buffer);
    expect(d.buffer).not.toBe(a.buffer);
    expect([a, b, c, d].map((x) => x[0])).toEqual([1, 2, 4, 5]);
  });

  it("give a run as large as the bound a buffer of its own", () => {
    const held = createHeldRuns(100, 40);
    const big = held.copy(bytes(40, 7), 0);
    expect(big.byteLength).toBe(40);
    expect(big.buffer.byteLength).toBe(40);
  });

  it.each([
    [0.5, 0],
    [1, 0],
    [5, 2],
    [60, 5],
    [64, 6],
    [3600, 11],
  ])("a window of %f s is class %i", (seconds, expected) => {
    expect(lifetimeClassOf(seconds)).toBe(expected);
  });
});
