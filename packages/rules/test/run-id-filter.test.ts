import { describe, expect, it } from "vitest";
import {
  MAX_FILTER_BITS,
  addRunId,
  createRunIdFilter,
  full,
  mayHold,
  saturated,
  saturatedRunIdFilter,
} from "../src/window/run-id-filter.js";
import { mulberry32 } from "../../../test/support/random.js";

const uuid = (random: () => number) =>
  "xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx".replace(/x/g, () => Math.floor(random() * 16).toString(16));

describe("run id filter", () => {
  it("holds every id added, up to the point where it is full", () => {
    const random = mulberry32(1);
    const f = createRunIdFilter();
    const added: string[] = [];
    while (!full(f)) {
      const id = uuid(random);
      addRunId(f, id);
      added.push(id);
    }
    expect(added.length).toBe(f.limit);
    for (const id of added) expect(mayHold(f, id)).toBe(true);
  });

  it("answers maybe for few ids it never saw, fewer while it is emptier", () => {
    const random = mulberry32(2);
    const f = createRunIdFilter();
    const rateOfStrangers = () => {
      let maybe = 0;
      for (let i = 0; i < 20_000; i++) if (mayHold(f, uuid(random))) maybe++;
      return maybe / 20_000;
    };
    expect(rateOfStrangers()).toBe(0);
    for (let i = 0; i < f.limit / 4; i++) addRunId(f, uuid(random));
    const quarter = rateOfStrangers();
    while (!full(f)) addRunId(f, uuid(random));
    const atLimit = rateOfStrangers();
    expect(quarter).toBeLessThan(0.0005);
    expect(atLimit).toBeLessThan(0.015);
    expect(atLimit).toBeGreaterThan(quarter);
  });

  it.each([
    { held: 0, bits: 1 << 16 },
    { held: 2048, bits: 1 << 16 },
    { held: 2049, bits: 1 << 17 },
    { held: 100_000, bits: 1 << 22 },
  ])("is sized by the ids held when it is made ($held → $bits bits)", ({ held, bits }) => {
    const f = createRunIdFilter(held);
    expect(f.bits.length * 32).toBe(bits);
    expect(f.limit).toBe(bits / 16);
    // Room for as many additions again as were held before it is full.
    expect(f.limit).toBeGreaterThanOrEqual(2 * held);
  });

  it("never grows past its largest size; a saturated filter holds every id and is never full", () => {
    expect(createRunIdFilter(10_000_000).bits.length * 32).toBe(MAX_FILTER_BITS);
    expect(createRunIdFilter(10_000_000, 1 << 18).bits.length * 32).toBe(1 << 18);
    const s = saturatedRunIdFilter();
    expect(saturated(s)).toBe(true);
    expect(saturated(createRunIdFilter())).toBe(false);
    const random = mulberry32(3);
    for (let i = 0; i < 1000; i++) expect(mayHold(s, uuid(random))).toBe(true);
    for (let i = 0; i < 100_000; i++) addRunId(s, uuid(random));
    expect(full(s)).toBe(false);
  });

  it("tells ids apart that differ in one character", () => {
    const f = createRunIdFilter();
    addRunId(f, "00000000-0000-4000-8000-000000000000");
    let maybe = 0;
    for (let i = 1; i < 16; i++) if (mayHold(f, `00000000-0000-4000-8000-00000000000${i.toString(16)}`)) maybe++;
    expect(maybe).toBe(0);
  });
});
