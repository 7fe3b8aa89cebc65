import { describe, expect, it } from "vitest";
import { WindowPart } from "@runhooks/contracts";
import { createFoldState, foldStep, windowId, type WindowSpec } from "@runhooks/rules";
import { createKafka, joinSlices, valueSlices } from "@runhooks/kafka";
import { partMessageValue } from "../src/part-message.js";

const TENANT = "8e3b0f4a-6c5d-4a9e-8b1f-4d5e6f708192";
const RULE = "9f4c1a5b-7d6e-4b0f-9c2a-5e6f70819203";
const run = (n: number) => ({
  id: `00000000-0000-4000-8000-00000000000${n}`,
  name: "n",
  run_type: "llm",
  start_time: "2024-04-05T01:28:54Z",
  end_time: "2024-04-05T01:28:55Z",
  tenant_id: TENANT,
  // Unknown to the contract's Run: passes through as sent.
  custom: { "spaced key": "é" },
});

describe("a closed part as its windows-topic message", () => {
  it("is a WindowPart whose runs are the bytes read, in order, each with its stream time", () => {
    const spec: WindowSpec = { ruleId: RULE, ruleVersion: 3, tenantId: TENANT, seconds: 5, maxRuns: 2 };
    const fold = createFoldState(4);
    const texts = [run(1), run(2), run(3)].map((r) => JSON.stringify(r, null, 1));
    // Three runs, max_runs 2: the fold keeps them in one part (the assembler cuts the merged window).
    const closed = [
      ...texts.flatMap((text, offset) =>
        foldStep(fold, {
          kind: "run",
          offset,
          time: 12_000 + offset,
          run: { runId: `r${offset}`, json: new TextEncoder().encode(text) },
          matches: [spec],
        }),
      ),
      ...foldStep(fold, { kind: "time", offset: 3, time: 15_000 }),
    ];
    expect(closed).toHaveLength(1);
    const first = partMessageValue(closed[0]!);
    const whole = valueSlices(first) === undefined ? first : joinSlices(valueSlices(first)!);
    // With kafkajs' lean encoder (every runhooks client) the value is sliced: the same bytes, each run
    // the very Uint8Array the fold holds (shared by every part the run is in).
    createKafka({ brokers: ["127.0.0.1:1"], clientId: "parts" });
    const slices = valueSlices(partMessageValue(closed[0]!));
    expect(slices).toBeDefined();
    expect(joinSlices(slices!).equals(whole)).toBe(true);
    expect(slices!.shared.filter((s) => s.byteLength > 2)).toEqual(closed[0]!.runs.map((r) => r.json));
    expect(slices!.shared.filter((s) => s.byteLength > 2).every((s, i) => s === closed[0]!.runs[i]!.json)).toBe(true);
    const value = whole.toString("utf8");
    expect(value.endsWith(`"runs":[${texts.join(",")}]}`)).toBe(true);
    const parsed = WindowPart.parse(JSON.parse(value));
    expect({ ...parsed, runs: parsed.runs.map((r) => r.id) }).toEqual({
      schema_version: 1,
      part_id: windowId({ ruleId: RULE, ruleVersion: 3, partition: 4, startMs: 10_000, chunk: 0 }),
      rule_id: RULE,
      rule_version: 3,
      tenant_id: TENANT,
      max_runs: 2,
      runs_partition: 4,
      piece: 0,
      start_time: "1970-01-01T00:00:10.000Z",
      end_time: "1970-01-01T00:00:15.000Z",
      run_times: [12_000, 12_001, 12_002],
      runs: [run(1).id, run(2).id, run(3).id],
    });
  });
});
