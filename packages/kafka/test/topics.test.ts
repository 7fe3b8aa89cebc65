import { describe, expect, it } from "vitest";
import { topicNames, topicSpecs } from "@runhooks/kafka";

describe("topic declarations", () => {
  const specs = topicSpecs();
  const byName = new Map(specs.map((s) => [s.name, s]));

  it("declares every topic of DESIGN.md §2 under the default prefix", () => {
    expect([...byName.keys()].sort()).toEqual(
      [
        "runhooks.attempts",
        "runhooks.events",
        "runhooks.rule-errors",
        "runhooks.rules",
        "runhooks.runs",
        "runhooks.runs.dlq",
        "runhooks.traces",
        "runhooks.windows",
        "runhooks.windows.dlq",
      ].sort(),
    );
    expect(Object.values(topicNames()).sort()).toEqual([...byName.keys()].sort());
  });

  it("stamps runs and rules with the broker's append time", () => {
    expect(byName.get("runhooks.runs")?.config["message.timestamp.type"]).toBe("LogAppendTime");
    expect(byName.get("runhooks.rules")?.config["message.timestamp.type"]).toBe("LogAppendTime");
  });

  it("compacts rules on one partition and keeps versions for at least 24 h", () => {
    const rules = byName.get("runhooks.rules");
    expect(rules?.numPartitions).toBe(1);
    expect(rules?.config["cleanup.policy"]).toBe("compact");
    expect(Number(rules?.config["min.compaction.lag.ms"])).toBeGreaterThanOrEqual(24 * 3600 * 1000);
  });

  it("gives the dead-letter topic as many partitions as runs, so keys keep their partition", () => {
    const custom = new Map(topicSpecs({ prefix: "x", runsPartitions: 12 }).map((s) => [s.name, s]));
    expect(custom.get("x.runs")?.numPartitions).toBe(12);
    expect(custom.get("x.runs.dlq")?.numPartitions).toBe(12);
  });
});
