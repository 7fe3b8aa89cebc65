import { describe, expect, it } from "vitest";
import { generateRuns, percentile, progressOn, receivedFigures, type ReceivedRequest } from "@runhooks/cli";
import { Run } from "@runhooks/contracts";
import { runFacts } from "@runhooks/rules";

const tenants = [
  {
    id: "2ebda79f-0c4e-4b0a-9b1e-1b2f3c4d5e6f",
    name: "a",
    weight: 3,
    projects: [{ id: "6a3be6a2-9a8c-4fc8-b4c6-a8983b286cc5", name: "p" }],
  },
  {
    id: "9f1c2e4a-5b6d-4e7f-8a9b-0c1d2e3f4a5b",
    name: "b",
    weight: 1,
    projects: [{ id: "7b4cf7b3-0b9d-4ad9-85d7-b9094c397dd6", name: "q" }],
  },
];

describe("generateRuns", () => {
  const runs = generateRuns({ seed: 11, runs: 3000, tenants, now: Date.UTC(2026, 10, 26, 21, 0, 0) });

  it("is a pure function of its options", () => {
    expect(generateRuns({ seed: 11, runs: 3000, tenants, now: Date.UTC(2026, 10, 26, 21, 0, 0) })).toEqual(runs);
    expect(generateRuns({ seed: 12, runs: 3000, tenants, now: Date.UTC(2026, 10, 26, 21, 0, 0) })).not.toEqual(runs);
  });

  it("makes valid, ended LangSmith runs with unique ids, roots after their children", () => {
    expect(runs.length).toBeGreaterThanOrEqual(3000);
    const seen = new Set<string>();
    for (const raw of runs) {
      const run = Run.parse(raw);
      expect(run.end_time).toBeTruthy();
      if (run.parent_run_id) expect(seen.has(run.parent_run_id)).toBe(false);
      seen.add(run.id);
    }
    expect(seen.size).toBe(runs.length);
  });

  it("has what the example rules look for: LLM errors, slow chains, expensive calls, several tenants", () => {
    const facts = runs.map((r) => runFacts(Run.parse(r)));
    const count = (p: (f: Record<string, unknown>) => boolean) => facts.filter(p).length;
    expect(count((f) => f["run_type"] === "llm" && f["has_error"] === true)).toBeGreaterThan(20);
    expect(count((f) => f["run_type"] === "chain" && (f["latency"] as number) > 30)).toBeGreaterThan(20);
    expect(count((f) => Number(f["total_cost"]) > 0.5 || Number(f["total_tokens"]) > 20000)).toBeGreaterThan(20);
    expect(new Set(runs.map((r) => r["tenant_id"])).size).toBe(2);
  });
});

describe("receivedFigures", () => {
  const request = (
    deliveryId: string,
    attempt: number,
    arrivedAt: number,
    runIds: string[],
    verified = true,
  ): ReceivedRequest => ({
    path: "/h",
    deliveryId,
    attempt,
    arrivedAt,
    verified,
    status: 204,
    ruleId: "r",
    startTime: undefined,
    endTime: undefined,
    runIds,
  });

  it("counts a delivery once, measures latency from its first arrival, and ignores unverified requests", () => {
    const figures = receivedFigures(
      [
        request("d1", 1, 1500, ["a", "b"]),
        request("d1", 2, 9000, ["a", "b"]),
        request("d2", 1, 2000, ["c"]),
        request("d3", 1, 100, ["x"], false),
      ],
      new Map([
        ["a", 1000],
        ["b", 1200],
        ["c", 1000],
      ]),
    );
    expect(figures.requests).toBe(4);
    expect(figures.verified).toBe(3);
    expect(figures.deliveriesByRule.get("r")).toBe(2);
    expect(figures.runsByRule.get("r")).toBe(3);
    expect(figures.latencyMs).toEqual({ samples: 3, p50: 500, p99: 1000, max: 1000 });
  });

  it("takes nearest-rank percentiles", () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
  });
});

describe("progressOn", () => {
  it("redraws one line on a terminal and writes a plain line at most every interval elsewhere", () => {
    let now = 0;
    let tty = "";
    const bar = progressOn(
      (t) => (tty += t),
      { errIsTty: true, color: false },
      () => now,
    );
    bar.update(50, 100, "half");
    bar.finish("done");
    expect(tty).toContain("\r[###############...............]  50%  half");
    expect(tty.endsWith("\r\u001b[Kdone\n")).toBe(true);

    let log = "";
    const plain = progressOn(
      (t) => (log += t),
      { errIsTty: false, color: false },
      () => now,
      2000,
    );
    plain.update(1, 10, "one");
    now = 1000;
    plain.update(2, 10, "two");
    now = 2500;
    plain.update(3, 10, "three");
    expect(log).toBe("10%  one\n30%  three\n");
    expect(log).not.toContain("\r");
  });
});
