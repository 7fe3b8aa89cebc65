import { describe, expect, it } from "vitest";
import { decideBackfillRange } from "../src/backfill/backfill-range.js";

describe("backfill range", () => {
  const now = Date.parse("2026-03-10T12:00:00Z");
  it("takes a past from, and a to after it", () => {
    expect(decideBackfillRange("2026-03-08T00:00:00Z", undefined, now)).toEqual({
      ok: true,
      fromMs: Date.parse("2026-03-08T00:00:00Z"),
      toMs: undefined,
    });
    expect(decideBackfillRange("2026-03-08T00:00:00Z", "2026-03-09T00:00:00Z", now)).toMatchObject({ ok: true });
  });
  it.each([
    ["yesterday", undefined, "from", "ISO 8601"],
    [undefined, undefined, "from", "ISO 8601"],
    ["2026-03-11T00:00:00Z", undefined, "from", "in the past"],
    ["2026-03-08T00:00:00Z", "2026-03-07T00:00:00Z", "to", "after from"],
  ])("refuses from %s to %s, naming %s", (from, to, path, message) => {
    const d = decideBackfillRange(from, to, now);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.issues).toContainEqual({ path, message: expect.stringContaining(message) as string });
  });
});
