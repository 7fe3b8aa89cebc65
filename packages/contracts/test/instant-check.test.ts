import { describe, expect, it } from "vitest";
import { Timestamp } from "@runhooks/contracts";
import { isInstantString } from "../src/instant-check.js";
import { mulberry32 } from "../../../test/support/random.js";

const PATTERN = Timestamp.def.pattern!;

/** Hand-picked edges: calendar, leap years, every time form, offsets, near misses. */
const EDGES = [
  "2024-04-05T01:28:54.085649",
  "2024-04-05T01:28:54.734491+00:00",
  "2024-04-05T01:28:54Z",
  "2024-04-05T01:28",
  "2024-04-05T01:28Z",
  "2024-04-05T01:28+00:00",
  "2024-04-05T01:28:54",
  "2024-04-05T01:28:54.",
  "2024-04-05T01:28:54.Z",
  "2024-04-05T01:28:54.1Z",
  "2024-04-05T01:28:54,1Z",
  "2024-04-05T01:28:5",
  "2024-04-05T01:28:",
  "2024-04-05T01:2",
  "2024-04-05t01:28:54Z",
  "2024-04-05T01:28:54z",
  "2024-04-05 01:28:54Z",
  "2024-04-05T01:28:54Z\n",
  "2024-04-05T01:28:54ZZ",
  "2024-04-05T01:28:54+23:59",
  "2024-04-05T01:28:54-23:59",
  "2024-04-05T01:28:54+24:00",
  "2024-04-05T01:28:54+00:60",
  "2024-04-05T01:28:54+0000",
  "2024-04-05T01:28:54+00:00:00",
  "2024-04-05T01:28:54+00",
  "2024-04-05T24:00:00Z",
  "2024-04-05T23:60:00Z",
  "2024-04-05T23:59:60Z",
  "2024-04-05T23:59:59.999999999Z",
  "2024-02-29T00:00:00Z",
  "2023-02-29T00:00:00Z",
  "2000-02-29T00:00:00Z",
  "1900-02-29T00:00:00Z",
  "0000-02-29T00:00:00Z",
  "2100-02-29T00:00:00Z",
  "1800-02-29T00:00:00Z",
  "2200-02-29T00:00:00Z",
  "1600-02-29T00:00:00Z",
  "2400-02-29T00:00:00Z",
  "2024-02-28T00:00:00Z",
  "2024-02-30T00:00:00Z",
  "2024-04-30T00:00:00Z",
  "2024-04-31T00:00:00Z",
  "2024-12-31T00:00:00Z",
  "2024-13-01T00:00:00Z",
  "2024-00-01T00:00:00Z",
  "2024-01-00T00:00:00Z",
  "2024-1-01T00:00:00Z",
  "20245-01-01T00:00:00Z",
  "+2024-01-01T00:00:00Z",
  "２024-01-01T00:00:00Z",
  "2024-04-05",
  "",
  "yesterday",
];

describe("the hand-written timestamp check", () => {
  it.each(EDGES)("agrees with zod's pattern on %j", (s) => {
    expect(isInstantString(s)).toBe(PATTERN.test(s));
  });

  it("agrees with zod's pattern on 200,000 mutated timestamps", () => {
    const random = mulberry32(11);
    const alphabet = "0123456789-:.TZ+ tz";
    let accepted = 0;
    for (let i = 0; i < 200_000; i++) {
      let s = EDGES[Math.floor(random() * 20)]!;
      // Random calendar fields keep the leap and month-length rules busy.
      if (random() < 0.5) {
        const pad = (v: number, w: number) => String(v).padStart(w, "0");
        const y = Math.floor(random() * 2801);
        s = `${pad(y, 4)}-${pad(Math.floor(random() * 14), 2)}-${pad(Math.floor(random() * 33), 2)}${s.slice(10)}`;
      }
      const edits = Math.floor(random() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * (s.length + 1));
        const c = alphabet[Math.floor(random() * alphabet.length)]!;
        const roll = random();
        s =
          roll < 0.4
            ? s.slice(0, at) + c + s.slice(at + 1)
            : roll < 0.7
              ? s.slice(0, at) + c + s.slice(at)
              : s.slice(0, at) + s.slice(at + 1);
      }
      const expected = PATTERN.test(s);
      if (expected) accepted++;
      if (isInstantString(s) !== expected) expect(isInstantString(s), JSON.stringify(s)).toBe(expected);
    }
    expect(accepted).toBeGreaterThan(20_000);
    expect(accepted).toBeLessThan(180_000);
  });
});
