import { describe, expect, it } from "vitest";
import type { NewDelivery, StoreWindowsResult } from "@runhooks/db";
import { mergedWindowId, type MergedChunk } from "@runhooks/rules";
import {
  classifyMessage,
  completedWindow,
  decodeBatch,
  deliveryRow,
  header,
  settleChunk,
  windowRow,
  withoutWebhooksReason,
  type BatchMessage,
} from "../src/window-batch.js";

const RUN = { id: "6ab80f10-d79c-4fa2-b441-922ed6feb630", name: "Search" };
const HEAD = {
  schema_version: 1,
  part_id: "3f1d5d0c-9e01-4f00-8a77-9b1f1a8c2a8e",
  rule_id: "d75d7417-0c57-4655-88fe-1db3cda3a47a",
  rule_version: 3,
  tenant_id: "2ebda79f-2946-4491-a9ad-d642f49e0815",
  max_runs: 10,
  runs_partition: 2,
  piece: 0,
  start_time: "2024-04-05T01:28:54.000Z",
  end_time: "2024-04-05T01:28:59.000Z",
};
const PART = Buffer.from(JSON.stringify({ ...HEAD, runs: [RUN, RUN], run_times: [1, 2] }));
const PART2 = { ...HEAD, part_id: "4f1d5d0c-9e01-4f00-8a77-9b1f1a8c2a8e", piece: 1 };
const RUN2 = { id: "7ab80f10-d79c-4fa2-b441-922ed6feb630", name: "Other" };
const BUNDLE = Buffer.from(
  JSON.stringify({
    schema_version: 1,
    runs_partition: 2,
    parts: [
      { ...HEAD, run_refs: [0, 1], traceparent: "00-1af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
      { ...PART2, run_refs: [1] },
    ],
    run_times: [1, 2],
    runs: [RUN, RUN2],
  }),
);
const WATERMARK = Buffer.from(JSON.stringify({ schema_version: 1, runs_partition: 2, stream_time: 1712280539000 }));
const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

const message = (value: Buffer | null, headers?: BatchMessage["headers"], offset = "7"): BatchMessage => ({
  offset,
  value,
  headers,
});
const kind = (k: string) => ({ "runhooks-kind": k });

describe("what a message of the windows topic is", () => {
  it.each<[string, BatchMessage, string]>([
    ["a tick", message(null, { "runhooks-kind": Buffer.from("tick") }), "tick"],
    ["a tick, header as text", message(Buffer.from("{}"), kind("tick")), "tick"],
    ["a part", message(PART, kind("part")), "parts"],
    ["a part without a kind", message(PART), "parts"],
    ["a bundle", message(BUNDLE, kind("parts")), "parts"],
    ["a bundle without its kind: not a part", message(BUNDLE), "invalid"],
    ["a part marked as a bundle", message(PART, kind("parts")), "invalid"],
    ["a watermark", message(WATERMARK, kind("watermark")), "watermark"],
    ["a watermark without its kind: not a part", message(WATERMARK), "invalid"],
    ["a part marked as a watermark", message(PART, kind("watermark")), "invalid"],
    ["an empty value", message(null), "invalid"],
    ["not JSON", message(Buffer.from("{")), "invalid"],
    ["a part without runs", message(Buffer.from(JSON.stringify({ ...HEAD, runs: [], run_times: [] }))), "invalid"],
    [
      "a run without an id",
      message(Buffer.from(JSON.stringify({ ...HEAD, runs: [{ name: "x" }], run_times: [1] }))),
      "invalid",
    ],
  ])("%s → %s", (_name, m, expected) => {
    expect(classifyMessage(m).kind).toBe(expected);
  });

  it("keeps an invalid message's offset and why, a part's trace context and a watermark's time", () => {
    expect(classifyMessage(message(null, undefined, "42"))).toEqual({
      kind: "invalid",
      offset: "42",
      error: "empty message value",
    });
    const part = classifyMessage(message(PART, { traceparent: [Buffer.from(TRACEPARENT), Buffer.from("other")] }, "9"));
    expect(
      part.kind === "parts" && part.parts.map((p) => [p.traceparent, p.input.offset, p.input.runs.length]),
    ).toEqual([[TRACEPARENT, 9, 2]]);
    expect(classifyMessage(message(WATERMARK, kind("watermark"), "3"))).toEqual({
      kind: "watermark",
      input: { kind: "watermark", offset: 3, runsPartition: 2, streamTime: 1712280539000 },
    });
  });

  it.each<[BatchMessage["headers"], string | undefined]>([
    [undefined, undefined],
    [{}, undefined],
    [{ k: undefined }, undefined],
    [{ k: "v" }, "v"],
    [{ k: Buffer.from("v") }, "v"],
    [{ k: ["first", "second"] }, "first"],
    [{ k: [] }, undefined],
  ])("header k of %o → %s", (headers, value) => {
    expect(header(headers, "k")).toBe(value);
  });

  it("decodes a batch from an offset on: ticks skipped and not counted, invalid messages counted and skipped", () => {
    const batch = decodeBatch(
      [
        message(PART, undefined, "0"),
        message(PART, { traceparent: TRACEPARENT }, "1"),
        message(null, kind("tick"), "2"),
        message(Buffer.from("nope"), undefined, "3"),
        message(WATERMARK, kind("watermark"), "4"),
        message(PART, kind("part"), "5"),
        message(BUNDLE, kind("parts"), "6"),
      ],
      1,
    );
    expect(batch.inputs.map((i) => [i.kind, i.offset])).toEqual([
      ["part", 1],
      ["watermark", 4],
      ["part", 5],
      ["part", 6],
      ["part", 6],
    ]);
    expect([batch.parts, batch.watermarks]).toEqual([4, 1]);
    // By input: the part at 1 carried its header's, the bundle's first part its entry's.
    expect([...batch.traceparents]).toEqual([
      [batch.inputs[0], TRACEPARENT],
      [batch.inputs[3], "00-1af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"],
    ]);
    expect([...batch.bundled.keys()]).toEqual([batch.inputs[3], batch.inputs[4]]);
    expect(batch.invalid).toEqual([{ offset: "3", error: expect.stringMatching(/^invalid JSON/) as unknown }]);
  });
});

describe("a bundle with a bad entry", () => {
  it("folds its other parts and refuses the bad one alone, at the bundle's offset, under its rule id", () => {
    const bad = { ...PART2, part_id: "5f1d5d0c-9e01-4f00-8a77-9b1f1a8c2a8e", rule_version: 0, run_refs: [1] };
    const value = Buffer.from(
      JSON.stringify({
        schema_version: 1,
        runs_partition: 2,
        parts: [{ ...HEAD, run_refs: [0] }, bad],
        run_times: [1, 2],
        runs: [RUN, RUN2],
      }),
    );
    const batch = decodeBatch([message(value, kind("parts"), "9")], 0);
    expect(batch.inputs.map((i) => (i.kind === "part" ? [i.partId, i.offset] : i.kind))).toEqual([[HEAD.part_id, 9]]);
    expect(batch.parts).toBe(1);
    expect(batch.invalid).toHaveLength(1);
    const [refused] = batch.invalid;
    expect(refused).toMatchObject({
      offset: "9",
      error: expect.stringMatching(/^bundle: parts\.1\.rule_version/) as unknown,
    });
    expect(refused!.part!.key).toBe(HEAD.rule_id);
    const { run_refs: _refs, ...members } = bad;
    expect(JSON.parse(refused!.part!.value.toString())).toEqual({ ...members, run_times: [2], runs: [RUN2] });
  });
});

describe("the rows a completed window becomes", () => {
  const chunk: MergedChunk = {
    kind: "chunk",
    windowId: mergedWindowId({ ruleId: HEAD.rule_id, ruleVersion: 3, startMs: Date.parse(HEAD.start_time), chunk: 1 }),
    ruleId: HEAD.rule_id,
    ruleVersion: 3,
    tenantId: HEAD.tenant_id,
    startMs: Date.parse(HEAD.start_time),
    endMs: Date.parse(HEAD.end_time),
    chunkIndex: 1,
    chunkCount: 2,
    runs: [{ runId: RUN.id, json: Buffer.from(JSON.stringify(RUN)), time: 1 }],
  };
  const w = completedWindow(chunk, TRACEPARENT);

  it("is one chunk of its window, with LangSmith's body", () => {
    expect(w).toEqual({
      windowId: chunk.windowId,
      ruleId: HEAD.rule_id,
      ruleVersion: 3,
      tenantId: HEAD.tenant_id,
      startTime: HEAD.start_time,
      endTime: HEAD.end_time,
      chunkIndex: 1,
      chunkCount: 2,
      runCount: 1,
      payload: Buffer.from(
        `{"rule_id":"${HEAD.rule_id}","start_time":"${HEAD.start_time}","end_time":"${HEAD.end_time}","runs":[${JSON.stringify(RUN)}]}`,
      ),
      traceparent: TRACEPARENT,
    });
  });

  it.each<[ReadonlyMap<string, unknown> | undefined, string | undefined]>([
    [undefined, "unknown_rule_version"],
    [new Map(), "no_webhooks"],
    [new Map([["h", {}]]), undefined],
  ])("webhooks %o → stored without deliveries because %s", (targets, reason) => {
    expect(withoutWebhooksReason(targets)).toBe(reason);
  });

  it.each([
    [0, null],
    [2, w.payload],
  ])("a window with %i webhooks keeps its body: %o", (count, payload) => {
    expect(windowRow(w, count)).toEqual({
      windowId: chunk.windowId,
      tenantId: HEAD.tenant_id,
      ruleId: HEAD.rule_id,
      ruleVersion: 3,
      startTime: HEAD.start_time,
      endTime: HEAD.end_time,
      runCount: 1,
      chunkIndex: 1,
      chunkCount: 2,
      webhookCount: count,
      payload,
    });
  });

  it("a delivery carries the window's ids and the webhook's redacted URL and origin", () => {
    const hook = { webhookId: "h1", redactedUrl: "https://example.com/h?token=***", origin: "https://example.com" };
    expect(deliveryRow(w, "d1", hook, "trace", true)).toEqual({
      id: "d1",
      windowId: chunk.windowId,
      webhookId: "h1",
      tenantId: HEAD.tenant_id,
      ruleId: HEAD.rule_id,
      ruleVersion: 3,
      url: hook.redactedUrl,
      origin: hook.origin,
      traceId: "trace",
      claimed: true,
    });
  });
});

describe("what storing a chunk comes to", () => {
  const reserved = (id: string): NewDelivery => ({
    id,
    windowId: "w",
    webhookId: "h",
    tenantId: "t",
    ruleId: "r",
    ruleVersion: 1,
    url: "u",
    origin: "o",
    traceId: "x",
    claimed: true,
  });

  it.each<
    [
      string,
      number,
      string[],
      StoreWindowsResult,
      { adopt: string[]; release: string[]; duplicate: number; pending: boolean },
    ]
  >([
    [
      "all new, all reserved",
      2,
      ["a", "b"],
      { windowsStored: 2, deliveriesCreated: 2, existing: [] },
      { adopt: ["a", "b"], release: [], duplicate: 0, pending: false },
    ],
    [
      "some created pending",
      2,
      ["a"],
      { windowsStored: 2, deliveriesCreated: 3, existing: [] },
      { adopt: ["a"], release: [], duplicate: 0, pending: true },
    ],
    [
      "a replayed window",
      2,
      ["a", "b"],
      { windowsStored: 1, deliveriesCreated: 1, existing: ["b"] },
      { adopt: ["a"], release: ["b"], duplicate: 1, pending: false },
    ],
    [
      "all replayed",
      1,
      ["a"],
      { windowsStored: 0, deliveriesCreated: 0, existing: ["a"] },
      { adopt: [], release: ["a"], duplicate: 1, pending: false },
    ],
    [
      "nothing reserved",
      1,
      [],
      { windowsStored: 1, deliveriesCreated: 2, existing: [] },
      { adopt: [], release: [], duplicate: 0, pending: true },
    ],
  ])("%s", (_name, windows, ids, stored, expected) => {
    const settled = settleChunk(windows, ids.map(reserved), stored);
    expect(settled.adopt.map((d) => d.id)).toEqual(expected.adopt);
    expect(settled.release.map((d) => d.id)).toEqual(expected.release);
    expect(settled.windowsDuplicate).toBe(expected.duplicate);
    expect(settled.storedPending).toBe(expected.pending);
    expect(settled).toMatchObject({ windowsStored: stored.windowsStored, deliveriesCreated: stored.deliveriesCreated });
    for (const d of settled.adopt) expect(d).toMatchObject({ attempt: 1, roundAttempt: 1, trigger: "scheduled" });
  });
});
