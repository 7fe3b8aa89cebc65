import { describe, expect, it } from "vitest";
import type { NewDelivery, StoreWindowsResult } from "@runhooks/db";
import {
  classifyMessage,
  decodeBatch,
  deliveryRow,
  header,
  nextOffset,
  settleChunk,
  windowRow,
  withoutWebhooksReason,
  type BatchMessage,
  type BatchWindow,
} from "../src/window-batch.js";

const RUN = { id: "6ab80f10-d79c-4fa2-b441-922ed6feb630", name: "Search" };
const HEAD = {
  schema_version: 1,
  window_id: "3f1d5d0c-9e01-4f00-8a77-9b1f1a8c2a8e",
  rule_id: "d75d7417-0c57-4655-88fe-1db3cda3a47a",
  rule_version: 3,
  tenant_id: "2ebda79f-2946-4491-a9ad-d642f49e0815",
  partition: 0,
  chunk: 0,
  start_time: "2024-04-05T01:28:54.000Z",
  end_time: "2024-04-05T01:28:59.000Z",
};
const WINDOW = Buffer.from(JSON.stringify({ ...HEAD, runs: [RUN, RUN] }));
const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

const message = (value: Buffer | null, headers?: BatchMessage["headers"], offset = "7"): BatchMessage => ({ offset, value, headers });

describe("what a message of the windows topic is", () => {
  it.each<[string, BatchMessage, string]>([
    ["a tick", message(null, { "runhooks-kind": Buffer.from("tick") }), "tick"],
    ["a tick, header as text", message(Buffer.from("{}"), { "runhooks-kind": "tick" }), "tick"],
    ["a window", message(WINDOW), "window"],
    ["a window with another kind", message(WINDOW, { "runhooks-kind": "window" }), "window"],
    ["an empty value", message(null), "invalid"],
    ["not JSON", message(Buffer.from("{")), "invalid"],
    ["a window without runs", message(Buffer.from(JSON.stringify({ ...HEAD, runs: [] }))), "invalid"],
    ["a run without an id", message(Buffer.from(JSON.stringify({ ...HEAD, runs: [{ name: "x" }] }))), "invalid"],
  ])("%s → %s", (_name, m, kind) => {
    expect(classifyMessage(m).kind).toBe(kind);
  });

  it("keeps an invalid window's offset and why, and a window's trace context", () => {
    expect(classifyMessage(message(null, undefined, "42"))).toEqual({ kind: "invalid", offset: "42", error: "empty message value" });
    const m = classifyMessage(message(WINDOW, { traceparent: [Buffer.from(TRACEPARENT), Buffer.from("other")] }));
    expect(m.kind === "window" && m.window.traceparent).toBe(TRACEPARENT);
    expect(m.kind === "window" && m.window.runCount).toBe(2);
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

  it("decodes a batch: ticks skipped and not counted, invalid windows counted and skipped", () => {
    const batch = decodeBatch([
      message(WINDOW, undefined, "1"),
      message(null, { "runhooks-kind": "tick" }, "2"),
      message(Buffer.from("nope"), undefined, "3"),
      message(WINDOW, undefined, "4"),
    ]);
    expect(batch.read).toBe(3);
    expect(batch.windows).toHaveLength(2);
    expect(batch.invalid).toEqual([{ offset: "3", error: expect.stringMatching(/^invalid JSON/) as unknown }]);
  });
});

describe("the rows a window becomes", () => {
  const decoded = classifyMessage(message(WINDOW, { traceparent: TRACEPARENT }));
  if (decoded.kind !== "window") throw new Error("the fixture is a window");
  const w: BatchWindow = decoded.window;

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
      windowId: HEAD.window_id,
      tenantId: HEAD.tenant_id,
      ruleId: HEAD.rule_id,
      ruleVersion: 3,
      startTime: HEAD.start_time,
      endTime: HEAD.end_time,
      runCount: 2,
      webhookCount: count,
      payload,
    });
  });

  it("a delivery carries the window's ids and the webhook's redacted URL and origin", () => {
    const hook = { webhookId: "h1", redactedUrl: "https://example.com/h?token=***", origin: "https://example.com" };
    expect(deliveryRow(w, "d1", hook, "trace", true)).toEqual({
      id: "d1",
      windowId: HEAD.window_id,
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

  it.each<[string, number, string[], StoreWindowsResult, { adopt: string[]; release: string[]; duplicate: number; pending: boolean }]>([
    ["all new, all reserved", 2, ["a", "b"], { windowsStored: 2, deliveriesCreated: 2, existing: [] }, { adopt: ["a", "b"], release: [], duplicate: 0, pending: false }],
    ["some created pending", 2, ["a"], { windowsStored: 2, deliveriesCreated: 3, existing: [] }, { adopt: ["a"], release: [], duplicate: 0, pending: true }],
    ["a replayed window", 2, ["a", "b"], { windowsStored: 1, deliveriesCreated: 1, existing: ["b"] }, { adopt: ["a"], release: ["b"], duplicate: 1, pending: false }],
    ["all replayed", 1, ["a"], { windowsStored: 0, deliveriesCreated: 0, existing: ["a"] }, { adopt: [], release: ["a"], duplicate: 1, pending: false }],
    ["nothing reserved", 1, [], { windowsStored: 1, deliveriesCreated: 2, existing: [] }, { adopt: [], release: [], duplicate: 0, pending: true }],
  ])("%s", (_name, windows, ids, stored, expected) => {
    const settled = settleChunk(windows, ids.map(reserved), stored);
    expect(settled.adopt.map((d) => d.id)).toEqual(expected.adopt);
    expect(settled.release.map((d) => d.id)).toEqual(expected.release);
    expect(settled.windowsDuplicate).toBe(expected.duplicate);
    expect(settled.storedPending).toBe(expected.pending);
    expect(settled).toMatchObject({ windowsStored: stored.windowsStored, deliveriesCreated: stored.deliveriesCreated });
    for (const d of settled.adopt) expect(d).toMatchObject({ attempt: 1, roundAttempt: 1, trigger: "scheduled" });
  });

  it.each([
    ["0", "1"],
    ["41", "42"],
    ["9007199254740990", "9007199254740991"],
  ])("a batch ending at offset %s commits %s", (last, next) => {
    expect(nextOffset(last)).toBe(next);
  });
});
