import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Rule, Run } from "@runhooks/contracts";
import { dryRun } from "@runhooks/api";

const tenant = randomUUID();

function run(end: string | null, patch: Record<string, unknown> = {}): Run {
  return Run.parse({ id: randomUUID(), name: "n", run_type: "llm", start_time: "2024-01-01T00:00:00Z", end_time: end, tenant_id: tenant, ...patch });
}

function rule(patch: Record<string, unknown> = {}): Rule {
  return Rule.parse({ id: randomUUID(), tenant_id: tenant, display_name: "r", filter: { "==": [{ var: "run_type" }, "llm"] }, ...patch });
}

describe("dryRun", () => {
  it("windows matched runs by end_time in aligned windows, UTC, with chunks of max_runs", () => {
    const runs = [
      run("2024-01-01T00:00:09.999"), // no offset: UTC, window [5, 10)
      run("2024-01-01T00:00:05+00:00"),
      run("2024-01-01T01:00:07+01:00"), // = 00:00:07Z
      run("2024-01-01T00:00:10Z"),
    ];
    const result = dryRun(rule({ window: { seconds: 5, max_runs: 2 } }), runs);
    expect(result.payloads.map((p) => [p.start_time, p.end_time, p.runs.map((r) => r.id)])).toEqual([
      ["2024-01-01T00:00:05.000Z", "2024-01-01T00:00:10.000Z", [runs[1]!.id, runs[2]!.id]],
      ["2024-01-01T00:00:05.000Z", "2024-01-01T00:00:10.000Z", [runs[0]!.id]],
      ["2024-01-01T00:00:10.000Z", "2024-01-01T00:00:15.000Z", [runs[3]!.id]],
    ]);
  });

  it("explains a failing filter down to the parts that failed, with the values they read", () => {
    const r = rule({ filter: { and: [{ "==": [{ var: "run_type" }, "llm"] }, { ">": [{ var: "latency" }, 10] }] } });
    const [verdict] = dryRun(r, [run("2024-01-01T00:00:02Z")]).results;
    expect(verdict?.matched).toBe(false);
    expect(verdict?.reasons).toEqual(['filter: filter.and[1] is false: {">":[{"var":"latency"},10]} with latency = 2']);
  });

  it("reports a disabled rule and an unended run, and sends nothing for them", () => {
    const result = dryRun(rule({ enabled: false }), [run(null)]);
    expect(result.results[0]?.checks.filter((c) => !c.ok).map((c) => c.part)).toEqual(["ended", "enabled"]);
    expect(result.payloads).toEqual([]);
  });

  it("shows webhook URLs redacted", () => {
    const result = dryRun(rule({ webhooks: [{ url: "https://h.example/x?token=abc123" }] }), []);
    expect(result.webhooks).toEqual(["https://h.example/x?token=***"]);
  });
});
