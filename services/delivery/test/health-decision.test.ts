import { describe, expect, it } from "vitest";
import { NEW_HEALTH, healthAfter, type Health, type HealthChange } from "../src/health-decision.js";

const T0 = Date.parse("2024-04-05T00:00:00.000Z");
const DAY = 86_400_000;
const THRESHOLD = { failures: 3, minSpanMs: DAY };
const failing = (n: number, since: number, lastSuccessAt: number | null = null): Health => ({
  ...NEW_HEALTH,
  state: "failing",
  consecutiveFailures: n,
  failingSince: since,
  lastFailureAt: since,
  lastSuccessAt,
});

describe("webhook health after a delivery ends", () => {
  // [before, how it ended, at, expected state, in a row, change]
  const table: [string, Health, "succeeded" | "failed", number, Health["state"], number, HealthChange | undefined][] = [
    ["healthy, success", NEW_HEALTH, "succeeded", T0, "healthy", 0, undefined],
    ["healthy, failure", NEW_HEALTH, "failed", T0, "failing", 1, undefined],
    ["failing, success", failing(2, T0), "succeeded", T0 + 5, "healthy", 0, { kind: "recovered", afterFailures: 2 }],
    ["threshold reached, span not", failing(2, T0), "failed", T0 + DAY - 1, "failing", 3, undefined],
    [
      "threshold and span, never succeeded",
      failing(2, T0),
      "failed",
      T0 + DAY,
      "disabled",
      3,
      { kind: "disabled", consecutiveFailures: 3, lastSuccessAt: null },
    ],
    [
      "span counted from the last success",
      failing(5, T0 + DAY, T0),
      "failed",
      T0 + DAY + 1,
      "disabled",
      6,
      { kind: "disabled", consecutiveFailures: 6, lastSuccessAt: T0 },
    ],
    ["span passed, threshold not", failing(1, T0), "failed", T0 + 2 * DAY, "failing", 2, undefined],
    [
      "disabled stays disabled on success",
      { ...failing(3, T0), state: "disabled", disabledAt: T0 },
      "succeeded",
      T0 + 1,
      "disabled",
      3,
      undefined,
    ],
    [
      "disabled stays disabled on failure",
      { ...failing(3, T0), state: "disabled", disabledAt: T0 },
      "failed",
      T0 + 1,
      "disabled",
      3,
      undefined,
    ],
  ];

  it.each(table)("%s", (_name, before, ended, at, state, inARow, change) => {
    const next = healthAfter(before, ended, at, THRESHOLD);
    expect(next.health.state).toBe(state);
    expect(next.health.consecutiveFailures).toBe(inARow);
    expect(next.change).toEqual(change);
  });

  it("a zero span disables at the threshold itself", () => {
    let h = NEW_HEALTH;
    const changes: (HealthChange | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      const next = healthAfter(h, "failed", T0 + i, { failures: 3, minSpanMs: 0 });
      h = next.health;
      changes.push(next.change);
    }
    expect(h.state).toBe("disabled");
    expect(changes.filter(Boolean)).toHaveLength(1);
  });
});
