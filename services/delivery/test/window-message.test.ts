import { randomUUID } from "node:crypto";
import { v5 as uuidv5 } from "uuid";
import { describe, expect, it } from "vitest";
import { MatchWindow, WebhookPayload } from "@runhooks/contracts";
import { decodeWindow } from "@runhooks/delivery";
import { attemptMessage } from "../src/attempt-message.js";
import { deliveryId } from "../src/delivery-id.js";
import { memberSpan } from "../src/json-span.js";
import { DeliveryAttempt } from "@runhooks/contracts";

const RUN = `{"id":"6ab80f10-d79c-4fa2-b441-922ed6feb630","name":"Search","run_type":"tool","start_time":"2024-04-05T01:28:54.085646","end_time":"2024-04-05T01:28:54.085649","tenant_id":"2ebda79f-2946-4491-a9ad-d642f49e0815","total_cost":1.50,"custom":{"nested":["a,b}",{"x":"]\\"}"}]},"unknown_field":"kept"}`;
const head = {
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

describe("window messages", () => {
  it("become the seed's payload with the runs spliced in byte for byte", () => {
    const message = `${JSON.stringify(head).slice(0, -1)},"runs":[${RUN},${RUN}]}`;
    const decoded = decodeWindow(Buffer.from(message));
    if (!decoded.ok) throw new Error(decoded.error);
    expect(decoded.payload.toString()).toBe(
      `{"rule_id":"${head.rule_id}","start_time":"${head.start_time}","end_time":"${head.end_time}","runs":[${RUN},${RUN}]}`,
    );
    expect(decoded.payload.toString()).toContain(`"total_cost":1.50`); // not re-serialised (1.5)
    const payload = JSON.parse(decoded.payload.toString()) as Record<string, unknown>;
    expect(Object.keys(payload)).toEqual(["rule_id", "start_time", "end_time", "runs"]);
    expect(WebhookPayload.safeParse(payload).success).toBe(true);
    expect(decoded.runCount).toBe(2);
    expect(decoded.window.rule_version).toBe(3);
  });

  it("keep multi-byte text in the runs exactly (the body is UTF-8 bytes)", () => {
    const run = RUN.replace('"Search"', '"Sök 🙂 ✓"');
    const decoded = decodeWindow(Buffer.from(`${JSON.stringify(head).slice(0, -1)},"runs":[${run}]}`));
    if (!decoded.ok) throw new Error(decoded.error);
    const expected = `{"rule_id":"${head.rule_id}","start_time":"${head.start_time}","end_time":"${head.end_time}","runs":[${run}]}`;
    expect(decoded.payload.equals(Buffer.from(expected))).toBe(true);
  });

  it("find the runs wherever they are and however spaced", () => {
    const message = `{ "runs" : [ ${RUN} ] , ${JSON.stringify(head).slice(1)}`;
    expect(MatchWindow.safeParse(JSON.parse(message)).success).toBe(true);
    const decoded = decodeWindow(Buffer.from(message));
    if (!decoded.ok) throw new Error(decoded.error);
    expect(decoded.payload.toString().endsWith(`"runs":[ ${RUN} ]}`)).toBe(true);
  });

  it.each([
    ["empty", ""],
    ["not JSON", "{"],
    ["no runs", JSON.stringify({ ...head, runs: [] })],
    ["a bad rule id", JSON.stringify({ ...head, rule_id: "x", runs: [JSON.parse(RUN)] })],
  ])("are refused when %s", (_what, text) => {
    expect(decodeWindow(Buffer.from(text)).ok).toBe(false);
  });

  it("memberSpan ignores look-alikes inside strings and nested objects", () => {
    const text = `{"a":"\\"runs\\":[1]","b":{"runs":[2]},"runs":[3, {"runs":4}] }`;
    const span = memberSpan(text, "runs");
    expect(span && text.slice(span.start, span.end)).toBe(`[3, {"runs":4}]`);
    expect(memberSpan(`{"a":1}`, "runs")).toBeUndefined();
    // A string ending in an escaped backslash ends at the quote after it.
    const slashes = JSON.stringify({ a: "x\\", runs: [5], b: '\\"runs":[6]' });
    const s1 = memberSpan(slashes, "runs");
    expect(s1 && slashes.slice(s1.start, s1.end)).toBe(`[5]`);
    const last = `{"x":1,"runs":"str"}`;
    const s2 = memberSpan(last, "runs");
    expect(s2 && last.slice(s2.start, s2.end)).toBe(`"str"`);
  });
});

describe("delivery ids and attempt messages", () => {
  it("delivery ids are stable per (window, webhook)", () => {
    const a = deliveryId(head.window_id, head.rule_id);
    expect(a).toBe(deliveryId(head.window_id, head.rule_id));
    expect(a).not.toBe(deliveryId(head.window_id, head.tenant_id));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // The same ids as the uuid package's v5 (the reference), so ids stored before keep matching.
    for (let i = 0; i < 200; i++) {
      const [w, h] = [randomUUID(), randomUUID()];
      expect(deliveryId(w, h)).toBe(uuidv5(`${w}/${h}`, "0b3f4c52-7a1e-4e55-9f2d-6c1d8a9e2b71"));
    }
  });

  it("attempt messages satisfy the DeliveryAttempt contract", () => {
    const message = attemptMessage({
      deliveryId: deliveryId(head.window_id, head.rule_id),
      windowId: head.window_id,
      ruleId: head.rule_id,
      webhookId: head.tenant_id,
      url: "https://hooks.example.com/in?secret=***",
      attempt: 2,
      trigger: "scheduled",
      startedAt: new Date("2024-04-05T01:28:54.734Z"),
      durationMs: 12.5,
      outcome: "http_5xx",
      statusCode: 503,
      error: null,
      responseExcerpt: "busy",
    });
    expect(DeliveryAttempt.parse(message)).toEqual(message);
  });
});
