import { describe, expect, it } from "vitest";
import { laneDepths } from "../src/workers.js";

describe("laneDepths: how many times its concurrency a lane may hold", () => {
  it.each([
    // lease, deadline → normal, fast
    [60_000, 5_000, 4, 8], // the defaults: 4×, and 8× for a fast lane
    [60_000, 6_000, 4, 8], // cap 9
    [60_000, 10_000, 4, 5], // cap 5: the last of 5 waits 4 deadlines, attempts in the 5th, one to spare
    [60_000, 20_000, 2, 2],
    [60_000, 30_000, 1, 1], // no queue: only what is in flight
    [60_000, 60_000, 1, 1], // a lease no longer than an attempt: never less than 1
    [3_600_000, 5_000, 4, 8],
  ])("lease %i ms, deadline %i ms → %i× and %i×", (leaseMs, deadlineMs, normal, fast) => {
    expect(laneDepths(leaseMs, deadlineMs)).toEqual({ normal, fast });
  });

  it("keeps every waiting delivery's last possible end inside the lease", () => {
    for (let deadline = 500; deadline <= 60_000; deadline += 500) {
      for (const lease of [2_000, 10_000, 60_000, 300_000]) {
        const { normal, fast } = laneDepths(lease, deadline);
        for (const depth of [normal, fast]) {
          expect(depth).toBeGreaterThanOrEqual(1);
          // Depth 1 is what is in flight, whatever the lease: nothing waits.
          if (depth > 1) expect((depth + 1) * deadline).toBeLessThanOrEqual(lease);
        }
      }
    }
  });
});
