import { describe, expect, it } from "vitest";
import { copyObject } from "../src/json-object.js";
import { finalizeRun, mergeRun } from "../src/merge.js";
import { dottedOrderIds, firstTokenTimeOf, parentRunIdsOf } from "../src/run-fields.js";
import { reportedUsage } from "../src/usage.js";

const ROOT = "1b64098b-4ab7-43f6-afee-992304f198d8";
const MID = "2c75109c-5bc8-44a7-b0ff-0a3415a0a9e9";
const LEAF = "3d86210d-6cd9-45b8-81a0-1b4526b1baf0";
// The JS SDK's segment time: milliseconds and a 3-digit execution order; Python's: microseconds.
const seg = (id: string, time = "20260101T000000000001") => `${time}Z${id}`;

describe("dotted_order → run ids, root first", () => {
  it.each<[string, unknown, string[] | undefined]>([
    ["a root alone", seg(ROOT), [ROOT]],
    ["three levels", [seg(ROOT), seg(MID), seg(LEAF)].join("."), [ROOT, MID, LEAF]],
    [
      "Python's microsecond times",
      `${seg(ROOT, "20230914T223155647000")}.${seg(LEAF, "20230914T223155649312")}`,
      [ROOT, LEAF],
    ],
    ["ids in upper case are lowered", seg(ROOT.toUpperCase()), [ROOT]],
    ["not a string", 42, undefined],
    ["null", null, undefined],
    ["empty", "", undefined],
    ["no Z", `20260101T000000000001${ROOT}`, undefined],
    ["a segment without time", `Z${ROOT}`, undefined],
    ["a date that is not digits", `2026010xT000000000001Z${ROOT}`, undefined],
    ["an id that is not a UUID", seg("not-a-uuid"), undefined],
    ["a truncated id", seg(ROOT.slice(0, 30)), undefined],
    ["an empty segment (a trailing dot)", `${seg(ROOT)}.`, undefined],
    ["an empty segment (two dots)", `${seg(ROOT)}..${seg(LEAF)}`, undefined],
    ["one bad segment among good ones", [seg(ROOT), "garbage", seg(LEAF)].join("."), undefined],
    ["a very long garbage string", "Z".repeat(100_000), undefined],
  ])("%s", (_why, dotted, ids) => {
    expect(dottedOrderIds(dotted)).toEqual(ids);
  });
});

describe("parent_run_ids", () => {
  const chain = [seg(ROOT), seg(MID), seg(LEAF)].join(".");
  it.each<[string, Record<string, unknown>, string[] | undefined]>([
    ["a leaf: its ancestors, root first", { id: LEAF, parent_run_id: MID, dotted_order: chain }, [ROOT, MID]],
    ["a root: none", { id: ROOT, dotted_order: seg(ROOT) }, []],
    ["a root without a dotted order", { id: ROOT }, []],
    ["a child without a dotted order: unknown", { id: LEAF, parent_run_id: MID }, undefined],
    ["a dotted order ending with another run", { id: MID, parent_run_id: MID, dotted_order: chain }, undefined],
    ["a parent other than the last ancestor", { id: LEAF, parent_run_id: ROOT, dotted_order: chain }, undefined],
    ["ancestors but no parent named", { id: LEAF, dotted_order: chain }, undefined],
    ["a malformed dotted order", { id: LEAF, parent_run_id: MID, dotted_order: "x.y" }, undefined],
    ["a parent that is not a string", { id: LEAF, parent_run_id: 7, dotted_order: chain }, undefined],
  ])("%s", (_why, run, expected) => {
    expect(parentRunIdsOf(run)).toEqual(expected);
  });
});

describe("first_token_time: the earliest new_token event", () => {
  const token = (time: unknown) => ({ name: "new_token", time });
  it.each<[string, unknown, string | undefined]>([
    ["no events", undefined, undefined],
    ["not an array", { name: "new_token", time: "2026-01-01T00:00:01Z" }, undefined],
    ["no new_token event", [{ name: "start", time: "2026-01-01T00:00:00Z" }], undefined],
    [
      "the earliest, not the first listed",
      [token("2026-01-01T00:00:02.5Z"), token("2026-01-01T00:00:01.250001Z"), token("2026-01-01T00:00:01.25Z")],
      "2026-01-01T00:00:01.25Z",
    ],
    ["kept as written (an offset)", [token("2026-01-01T01:00:00+01:00")], "2026-01-01T01:00:00+01:00"],
    [
      "offsets are compared as instants",
      [token("2026-01-01T00:30:00Z"), token("2026-01-01T01:00:00+01:00")],
      "2026-01-01T01:00:00+01:00",
    ],
    ["epoch milliseconds become ISO-8601 UTC", [token(1767225601500)], "2026-01-01T00:00:01.500Z"],
    [
      "invalid times are skipped",
      [token("soon"), token("2026-02-30T00:00:00Z"), token(Number.NaN), token(null)],
      undefined,
    ],
    ["an invalid one beside a valid one", [token("yesterday"), token("2026-01-01T00:00:03Z")], "2026-01-01T00:00:03Z"],
    [
      "other events and non-objects ignored",
      [null, 3, { name: "end", time: "2025-01-01T00:00:00Z" }, token("2026-01-01T00:00:04Z")],
      "2026-01-01T00:00:04Z",
    ],
  ])("%s", (_why, events, expected) => {
    expect(firstTokenTimeOf(events)).toBe(expected);
  });
});

describe("reported token usage", () => {
  const message = (usage: unknown) => ({
    lc: 1,
    type: "constructor",
    kwargs: { content: "hi", usage_metadata: usage },
  });
  it.each<[string, Record<string, unknown>, unknown]>([
    [
      "outputs.usage_metadata (traceable, the SDK's wrappers)",
      { outputs: { usage_metadata: { input_tokens: 11, output_tokens: 7, total_tokens: 18 } } },
      { prompt: 11, completion: 7, total: 18 },
    ],
    [
      "extra.metadata.usage_metadata",
      { extra: { metadata: { usage_metadata: { input_tokens: 2, output_tokens: 3 } } } },
      { prompt: 2, completion: 3, total: 5 },
    ],
    [
      "LangChain (Python): outputs.llm_output.token_usage",
      {
        outputs: {
          generations: [[{ text: "x" }]],
          llm_output: { token_usage: { prompt_tokens: 12, completion_tokens: 13, total_tokens: 25 } },
        },
      },
      { prompt: 12, completion: 13, total: 25 },
    ],
    [
      "LangChain.js: outputs.llmOutput.tokenUsage",
      {
        outputs: {
          generations: [[{ text: "x" }]],
          llmOutput: { tokenUsage: { promptTokens: 12, completionTokens: 13, totalTokens: 25 } },
        },
      },
      { prompt: 12, completion: 13, total: 25 },
    ],
    [
      "a chat model's message in generations (serialised)",
      {
        outputs: {
          generations: [[{ text: "x", message: message({ input_tokens: 5, output_tokens: 6, total_tokens: 11 }) }]],
        },
      },
      { prompt: 5, completion: 6, total: 11 },
    ],
    [
      "a chat model's message in a flat generations list",
      { outputs: { generations: [{ message: { usage_metadata: { input_tokens: 1, output_tokens: 1 } } }] } },
      { prompt: 1, completion: 1, total: 2 },
    ],
    [
      "outputs.usage_metadata wins over the others",
      {
        outputs: {
          usage_metadata: { input_tokens: 1, output_tokens: 1 },
          llm_output: { token_usage: { prompt_tokens: 9 } },
        },
        extra: { metadata: { usage_metadata: { input_tokens: 8 } } },
      },
      { prompt: 1, completion: 1, total: 2 },
    ],
    ["a total alone", { outputs: { usage_metadata: { total_tokens: 40 } } }, { total: 40 }],
    ["one side only: no total made up", { outputs: { usage_metadata: { input_tokens: 4 } } }, { prompt: 4 }],
    [
      "counts that are not non-negative integers are ignored",
      { outputs: { usage_metadata: { input_tokens: -1, output_tokens: 2.5, total_tokens: "9" } } },
      undefined,
    ],
    ["usage that is not an object", { outputs: { usage_metadata: [1, 2] } }, undefined],
    ["no usage anywhere", { outputs: { content: "hi" }, extra: { metadata: {} } }, undefined],
    ["outputs not an object", { outputs: "text" }, undefined],
    ["generations not a list", { outputs: { generations: { message: message({ input_tokens: 1 }) } } }, undefined],
  ])("%s", (_why, run, expected) => {
    expect(reportedUsage(run)).toEqual(expected);
  });
});

describe("finalizing a merged run", () => {
  const SESSION = "4e97321e-7dea-46c9-92b1-2c5637c2cb01";
  const complete = {
    id: LEAF,
    parent_run_id: MID,
    dotted_order: [seg(ROOT), seg(MID), seg(LEAF)].join("."),
    outputs: { llm_output: { token_usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } } },
    events: [{ name: "new_token", time: "2026-01-01T00:00:01Z" }],
  };

  it("derives every field the run leaves unset", () => {
    expect(finalizeRun(complete, SESSION)).toMatchObject({
      trace_id: ROOT,
      is_root: false,
      status: "success",
      parent_run_ids: [ROOT, MID],
      prompt_tokens: 3,
      completion_tokens: 4,
      total_tokens: 7,
      first_token_time: "2026-01-01T00:00:01Z",
      session_id: SESSION,
    });
  });

  it("never overwrites what the producer set, and changes nothing else", () => {
    const set = {
      ...complete,
      parent_run_ids: [MID],
      prompt_tokens: 100,
      total_tokens: 0,
      first_token_time: "2025-01-01T00:00:00Z",
      session_id: SESSION,
    };
    const out = finalizeRun(set, "5fa8432f-8efb-47da-a3c2-3d6748d3dc12");
    expect(out).toEqual({ ...set, trace_id: ROOT, is_root: false, status: "success", completion_tokens: 4 });
    expect(set).not.toHaveProperty("trace_id");
  });

  it("keeps a run's own __proto__ field as data, never as the copy's prototype", () => {
    const run = JSON.parse(`{"__proto__": {"polluted": 1}, "id": "${ROOT}"}`) as Record<string, unknown>;
    for (const out of [finalizeRun(run), copyObject(run), mergeRun(run, { name: "n" })!]) {
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
      expect(Object.keys(out)).toContain("__proto__");
      expect((out as { polluted?: unknown }).polluted).toBeUndefined();
    }
  });

  it("leaves fields unset when nothing they derive from is usable", () => {
    const out = finalizeRun({ id: LEAF, parent_run_id: MID, dotted_order: "broken", outputs: {}, events: [] });
    for (const field of [
      "parent_run_ids",
      "prompt_tokens",
      "completion_tokens",
      "total_tokens",
      "first_token_time",
      "session_id",
    ])
      expect(out, field).not.toHaveProperty(field);
  });
});
