import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Run } from "@runhooks/contracts";
import {
  DERIVED_FACTS,
  READS_ALL_FACTS,
  READS_HAS_ERROR,
  READS_LATENCY,
  READS_METADATA,
  attachFacts,
  derivedFactsRead,
  runFacts,
  validateFilter,
} from "@runhooks/rules";
import { compile } from "./filter/oracle.js";

const seed = JSON.parse(
  readFileSync(new URL("../../contracts/test/fixtures/seed-payload.json", import.meta.url), "utf8"),
) as { runs: unknown[] };
const seedRun = Run.parse(seed.runs[0]);

const run = (patch: Record<string, unknown>) => Run.parse({ ...seedRun, ...patch });

describe("runFacts", () => {
  it("keeps every field of the run", () => {
    const facts = runFacts(seedRun);
    for (const [key, value] of Object.entries(seedRun)) expect(facts[key]).toBe(value);
    expect(Object.keys(facts).sort()).toEqual([...new Set([...Object.keys(seedRun), ...DERIVED_FACTS])].sort());
  });

  it.each<[string, string, string | null | undefined, number | null]>([
    [
      "LangSmith's example run: no offset means UTC, microseconds kept",
      "2024-04-05T01:28:54.085646",
      "2024-04-05T01:28:54.085649",
      0.000003,
    ],
    ["offsets", "2024-04-05T01:28:54.734491+00:00", "2024-04-05T03:28:56.492563+02:00", 1.758072],
    ["Z and no offset mixed", "2024-04-05T01:28:54.5Z", "2024-04-05T01:28:56", 1.5],
    ["a negative offset", "2024-04-04T20:00:00-05:00", "2024-04-05T01:00:01.25Z", 1.25],
    ["nanoseconds beyond microseconds", "2024-04-05T01:28:54.000000001", "2024-04-05T01:28:54.000000003", 2e-9],
    ["across midnight", "2024-04-05T23:59:59.999999", "2024-04-06T00:00:00.000001", 0.000002],
    ["minutes only (no offset, as the contract allows)", "2024-04-05T01:28", "2024-04-05T01:29:00.5", 60.5],
    ["end before start is negative", "2024-04-05T01:28:55", "2024-04-05T01:28:54", -1],
    ["no end time: null", "2024-04-05T01:28:54", null, null],
    ["an absent end time: null", "2024-04-05T01:28:54", undefined, null],
  ])("latency: %s", (_name, start_time, end_time, expected) => {
    const facts = runFacts(run({ start_time, end_time }));
    if (expected === null) expect(facts["latency"]).toBeNull();
    else expect(facts["latency"]).toBeCloseTo(expected, 9);
  });

  it("latency is exact to the microsecond where a double of epoch seconds would not be", () => {
    const facts = runFacts(run({ start_time: "2024-04-05T01:28:54.085646", end_time: "2024-04-05T01:28:54.085649" }));
    expect(facts["latency"]).toBe(0.000003);
    // Date.parse would read both as local time and drop the microseconds.
    expect(Date.parse("2024-04-05T01:28:54.085649") - Date.parse("2024-04-05T01:28:54.085646")).toBe(0);
  });

  it("metadata is extra.metadata, {} when absent", () => {
    const metadata = { env: "prod", user: { tier: "pro" } };
    const withMetadata = run({ extra: { metadata } });
    expect(runFacts(withMetadata)["metadata"]).toBe(withMetadata.extra?.["metadata"]); // referenced, not copied
    expect(runFacts(withMetadata)["metadata"]).toEqual(metadata);
    expect(runFacts(run({ extra: null }))["metadata"]).toEqual({});
    expect(runFacts(run({ extra: { runtime: {} } }))["metadata"]).toEqual({});
    expect(runFacts(run({ extra: { metadata: null } }))["metadata"]).toEqual({});
    const byMetadata = compile({ "==": [{ var: "metadata.user.tier" }, "pro"] });
    expect(byMetadata(runFacts(run({ extra: { metadata } })))).toBe(true);
    expect(byMetadata(runFacts(run({ extra: null })))).toBe(false);
  });

  it.each<[string, Record<string, unknown>, boolean]>([
    ["an error message", { error: "Rate limit exceeded", status: "success" }, true],
    ["status error", { error: null, status: "error" }, true],
    ["an empty error", { error: "", status: "success" }, false],
    ["no error", { error: null, status: "success" }, false],
    ["neither field", { status: undefined }, false],
  ])("has_error: %s", (_name, patch, expected) => {
    expect(runFacts(run(patch))["has_error"]).toBe(expected);
  });

  it("derived variables win over same-named run fields", () => {
    const facts = runFacts(run({ latency: "slow", metadata: "mine", has_error: "maybe", end_time: null }));
    expect(facts["latency"]).toBeNull();
    expect(facts["metadata"]).toEqual({});
    expect(facts["has_error"]).toBe(false);
  });

  it("does not modify the run", () => {
    const input = run({ extra: { metadata: { a: 1 } } });
    const before = JSON.stringify(input);
    runFacts(input);
    expect(JSON.stringify(input)).toBe(before);
  });
});

describe("runFacts latency on timestamps outside the contract", () => {
  // Runs are validated before they get here; a timestamp that still does not parse gives a null latency.
  it.each([
    "2024-04-05 01:28:54",
    "2024-04-05T01:28:54.",
    "2024-04-05T01:28:54+0000",
    "2024-04-05T1:28:54",
    "2024-13-05T01:28:54",
    "2024-04-05T24:00:00",
    "2024-04-05T01:28:54Zjunk",
    "2024-04-05T01:28:54+aa:00",
  ])("%s", (end_time) => {
    const facts = runFacts({ ...seedRun, end_time });
    expect(facts["latency"]).toBeNull();
  });

  it("agrees with Date.parse (given an explicit offset) on whole milliseconds", () => {
    for (const [start_time, end_time] of [
      ["2024-02-28T23:59:59.5Z", "2024-03-01T00:00:00.25Z"],
      ["1999-12-31T23:00:00-01:30", "2000-01-01T01:00:00+00:00"],
      ["2024-04-05T01:28:54.123+05:45", "2024-04-05T01:28:54.123Z"],
    ] as const) {
      const facts = runFacts(run({ start_time, end_time }));
      expect(facts["latency"]).toBeCloseTo((Date.parse(end_time) - Date.parse(start_time)) / 1000, 9);
    }
  });
});

describe("attachFacts", () => {
  it("gives the same facts as runFacts, on the run object itself", () => {
    const base = {
      id: "6ab80f10-d79c-4fa2-b441-922ed6feb630",
      name: "x",
      run_type: "llm",
      tenant_id: "2ebda79f-2946-4491-a9ad-d642f49e0815",
      start_time: "2024-04-05T01:28:54.085646",
      end_time: "2024-04-05T01:28:56.585646",
      status: "error",
      extra: { metadata: { env: "prod" } },
      latency: "own field, overwritten",
    };
    const run = structuredClone(base);
    const facts = attachFacts(run);
    expect(facts).toBe(run);
    expect(facts).toEqual(runFacts(structuredClone(base)));
    expect(facts["latency"]).toBe(2.5);
  });
});

describe("derivedFactsRead", () => {
  const reads = (filter: unknown) => {
    const valid = validateFilter(filter);
    if (!valid.ok) throw new Error(JSON.stringify(valid.issues));
    return derivedFactsRead(valid.value);
  };
  it.each([
    [{ "==": [{ var: "status" }, "error"] }, 0],
    [{ ">": [{ var: "latency" }, 5] }, READS_LATENCY],
    [{ "==": [{ var: "metadata.env" }, "prod"] }, READS_METADATA],
    [{ and: [{ var: "has_error" }, { in: ["x", { var: ["tags", []] }] }] }, READS_HAS_ERROR],
    [{ or: [{ var: "latency.x" }, { "!": { var: "metadata" } }] }, READS_LATENCY | READS_METADATA],
    [{ var: "" }, READS_ALL_FACTS],
    [{ var: [{ cat: ["lat", "ency"] }] }, READS_ALL_FACTS],
    [{ missing: ["a"] }, READS_ALL_FACTS],
    [{ missing_some: [1, ["a", "b"]] }, READS_ALL_FACTS],
    [{ some: [{ var: "tags" }, { "==": [{ var: "" }, "prod"] }] }, READS_ALL_FACTS],
  ])("%j reads %i", (filter, expected) => {
    expect(reads(filter)).toBe(expected);
  });

  it("attachFacts computes only the facts asked for", () => {
    const facts = attachFacts(structuredClone(seedRun), READS_METADATA);
    expect(facts["metadata"]).toEqual(seedRun.extra?.["metadata"] ?? {});
    expect("latency" in facts).toBe(false);
    expect("has_error" in facts).toBe(false);
  });
});
