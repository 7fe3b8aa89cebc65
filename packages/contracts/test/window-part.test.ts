import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RunsWatermark, WindowPart, WindowPartHead, describeIssues, parseWith } from "@runhooks/contracts";

const seedPayload = JSON.parse(readFileSync(new URL("./fixtures/seed-payload.json", import.meta.url), "utf8")) as {
  rule_id: string;
  runs: Record<string, unknown>[];
};
const seedRun = seedPayload.runs[0]!;

const part = {
  schema_version: 1,
  part_id: "0b7f1f2e-7f5e-5c1b-9d0a-1f0e2d3c4b5a",
  rule_id: seedPayload.rule_id,
  rule_version: 2,
  tenant_id: seedRun["tenant_id"],
  max_runs: 100,
  runs_partition: 3,
  piece: 0,
  start_time: "2024-04-05T01:28:50.000Z",
  end_time: "2024-04-05T01:28:55.000Z",
  runs: [seedRun, seedRun],
  run_times: [1_712_280_531_000, 1_712_280_532_500],
};

function issuesOf(schema: Parameters<typeof parseWith>[0], input: unknown) {
  const result = parseWith(schema, input);
  if (result.ok) throw new Error("expected the input to be refused");
  return result.issues;
}

describe("WindowPart", () => {
  it("accepts a part whose runs each have a time, field for field", () => {
    expect(WindowPart.parse(part)).toEqual(part);
  });

  it.each([
    ["run_times", { run_times: [1_712_280_531_000] }, "one time per run"],
    ["run_times[1]", { run_times: [1, 2.5] }, ""],
    ["run_times[0]", { run_times: [-1, 2] }, ""],
    ["runs", { runs: [], run_times: [] }, "at least one run"],
    ["runs[0].id", { runs: [{ ...seedRun, id: "x" }, seedRun] }, "must be a UUID"],
    ["max_runs", { max_runs: 0 }, ""],
    ["runs_partition", { runs_partition: -1 }, ""],
    ["piece", { piece: 1.5 }, ""],
    ["end_time", { end_time: "2024-04-05T01:28:55+00:00" }, "ending in Z"],
    ["schema_version", { schema_version: 2 }, ""],
  ])("names the field at fault: %s", (path, patch, fragment) => {
    const issues = issuesOf(WindowPart, { ...part, ...patch });
    expect(issues.map((i) => i.path)).toContain(path);
    expect(describeIssues(issues)).toContain(fragment);
  });

  it("refuses members it does not define", () => {
    expect(describeIssues(issuesOf(WindowPart, { ...part, window_id: part.part_id }))).toMatch(/window_id/);
  });

  it("has a head that checks everything but the runs and their times", () => {
    const { runs: _runs, run_times: _times, ...head } = part;
    expect(WindowPartHead.parse(head)).toEqual(head);
    expect(issuesOf(WindowPartHead, { ...head, rule_version: 0 }).map((i) => i.path)).toEqual(["rule_version"]);
    expect(issuesOf(WindowPartHead, part).map((i) => i.path)).toEqual(["(root)"]);
  });
});

describe("RunsWatermark", () => {
  const watermark = { schema_version: 1, runs_partition: 5, stream_time: 1_712_280_535_000 };

  it("accepts a runs partition's stream time in milliseconds", () => {
    expect(RunsWatermark.parse(watermark)).toEqual(watermark);
  });

  it.each([
    ["stream_time", { stream_time: "2024-04-05T01:28:55.000Z" }],
    ["stream_time", { stream_time: 1.5 }],
    ["runs_partition", { runs_partition: -1 }],
    ["runs_partition", { runs_partition: undefined }],
  ])("names the field at fault: %s", (path, patch) => {
    expect(issuesOf(RunsWatermark, { ...watermark, ...patch }).map((i) => i.path)).toContain(path);
  });

  it("is never mistaken for a part, nor a part for it (both are strict)", () => {
    expect(RunsWatermark.safeParse(part).success).toBe(false);
    expect(WindowPart.safeParse(watermark).success).toBe(false);
  });
});
