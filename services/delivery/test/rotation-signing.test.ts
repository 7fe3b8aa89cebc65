import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { attemptHeaders } from "../src/request-headers.js";
import { toTarget } from "../src/target.js";

const secret = () => `whsec_${randomBytes(24).toString("base64")}`;
const BODY = Buffer.from('{"rule_id":"r","runs":[]}');
const OLD = secret();
const NEW = secret();
const UNTIL = "2026-12-07T12:00:00.000Z";
const untilSeconds = Date.parse(UNTIL) / 1000;

const target = toTarget({
  id: "6ab80f10-d79c-4fa2-b441-922ed6feb630",
  url: "https://hooks.example.com/in",
  signing_secret: NEW,
  previous_signing_secret: { secret: OLD, until: UNTIL },
});

function headersAt(timestampSeconds: number) {
  return attemptHeaders({
    target,
    deliveryId: "msg_1",
    attempt: 1,
    timestampSeconds,
    traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    chunkIndex: 0,
    chunkCount: 1,
    body: BODY,
  });
}

/** Whether the standardwebhooks package, holding `key`, accepts the request (its clock set to the timestamp). */
function accepts(key: string, headers: Record<string, string>): boolean {
  const now = Date.now;
  Date.now = () => Number(headers["webhook-timestamp"]) * 1000;
  try {
    new Webhook(key).verify(BODY, headers);
    return true;
  } catch {
    return false;
  } finally {
    Date.now = now;
  }
}

describe("signing during a rotation's overlap", () => {
  it.each([
    ["an hour before the overlap ends", untilSeconds - 3600, 2, { NEW: true, OLD: true }],
    ["the last second of the overlap", untilSeconds - 1, 2, { NEW: true, OLD: true }],
    ["when the overlap ends", untilSeconds, 1, { NEW: true, OLD: false }],
    ["a day after", untilSeconds + 86_400, 1, { NEW: true, OLD: false }],
  ])("%s: %i signature(s)", (_, ts, count, expected) => {
    const headers = headersAt(ts);
    const parts = headers["webhook-signature"]!.split(" ");
    expect(parts).toHaveLength(count);
    for (const p of parts) expect(p).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect({ NEW: accepts(NEW, headers), OLD: accepts(OLD, headers) }).toEqual(expected);
  });

  it("lists the previous secret for scrubbing free text", () => {
    expect(target.secrets).toContain(OLD);
    expect(target.secrets).toContain(NEW);
  });

  it("signs once without a rotation, and not at all without a secret", () => {
    const plain = toTarget({ id: "w", url: "https://h.example/in", signing_secret: NEW });
    const h = attemptHeaders({ ...headersBase(), target: plain });
    expect(h["webhook-signature"]!.split(" ")).toHaveLength(1);
    const none = toTarget({ id: "w", url: "https://h.example/in" });
    expect(attemptHeaders({ ...headersBase(), target: none })["webhook-signature"]).toBeUndefined();
  });
});

function headersBase() {
  return {
    deliveryId: "msg_2",
    attempt: 1,
    timestampSeconds: untilSeconds - 10,
    traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    chunkIndex: 0,
    chunkCount: 1,
    body: BODY,
  };
}
