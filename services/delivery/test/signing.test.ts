import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { attemptHeaders } from "../src/request-headers.js";
import { signature, signingKey } from "../src/signing.js";
import { toTarget } from "../src/target.js";
import { USER_AGENT } from "../src/version.js";

const SECRET = `whsec_${randomBytes(24).toString("base64")}`;
const BODY = Buffer.from(
  JSON.stringify({
    rule_id: "d75d7417-0c57-4655-88fe-1db3cda3a47a",
    start_time: "2024-04-05T01:28:54.734Z",
    end_time: "2024-04-05T01:28:56.492Z",
    runs: [{ id: "é" }],
  }),
);

describe("Standard Webhooks signatures", () => {
  it("are verified by the standardwebhooks package", () => {
    const ts = Math.floor(Date.now() / 1000);
    const sig = signature(signingKey(SECRET), "msg_1", ts, BODY);
    expect(sig).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const verified = new Webhook(SECRET).verify(BODY, {
      "webhook-id": "msg_1",
      "webhook-timestamp": String(ts),
      "webhook-signature": sig,
    });
    expect(verified).toEqual(JSON.parse(BODY.toString()));
  });

  it("are the package's own signature, byte for byte", () => {
    const ts = 1_712_280_534;
    expect(signature(signingKey(SECRET), "msg_2", ts, BODY)).toBe(
      new Webhook(SECRET).sign("msg_2", new Date(ts * 1000), BODY),
    );
  });

  it("fail verification for another body, id, timestamp or key", () => {
    const ts = Math.floor(Date.now() / 1000);
    const sig = signature(signingKey(SECRET), "msg_1", ts, BODY);
    const wh = new Webhook(SECRET);
    const headers = { "webhook-id": "msg_1", "webhook-timestamp": String(ts), "webhook-signature": sig };
    expect(() => wh.verify(Buffer.concat([BODY, Buffer.from(" ")]), headers)).toThrow();
    expect(() => wh.verify(BODY, { ...headers, "webhook-id": "msg_2" })).toThrow();
    expect(() => wh.verify(BODY, { ...headers, "webhook-timestamp": String(ts + 1) })).toThrow();
    expect(() => new Webhook(`whsec_${randomBytes(24).toString("base64")}`).verify(BODY, headers)).toThrow();
  });
});

describe("attempt headers", () => {
  const target = toTarget({
    id: "6ab80f10-d79c-4fa2-b441-922ed6feb630",
    url: "https://hooks.example.com/in?secret=s3cr3t-value&team=ml",
    headers: {
      "X-Team": "ml-secret-header",
      "Content-Type": "text/plain",
      "Webhook-Id": "forged",
      "runhooks-attempt": "9",
      "Runhooks-Chunk-Count": "9",
    },
    signing_secret: SECRET,
  });
  const input = {
    target,
    deliveryId: "9b1f1a8c-2a8e-4f00-8a77-3f1d5d0c9e01",
    attempt: 2,
    timestampSeconds: 1_712_280_534,
    traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    chunkIndex: 2,
    chunkCount: 5,
    body: BODY,
  };

  it("carry ours, the custom ones, and a verifiable signature", () => {
    const h = attemptHeaders(input);
    expect(h).toMatchObject({
      "content-type": "application/json",
      "user-agent": USER_AGENT,
      traceparent: input.traceparent,
      "webhook-id": input.deliveryId,
      "webhook-timestamp": "1712280534",
      "runhooks-attempt": "2",
      "runhooks-chunk-index": "2",
      "runhooks-chunk-count": "5",
      "x-team": "ml-secret-header",
    });
    expect(USER_AGENT).toMatch(/^runhooks\/\d+\.\d+\.\d+$/);
    expect(h["webhook-signature"]).toBe(
      new Webhook(SECRET).sign(input.deliveryId, new Date(input.timestampSeconds * 1000), BODY),
    );
  });

  it("never let a custom header override ours", () => {
    const h = attemptHeaders(input);
    expect(Object.keys(h).filter((k) => k.toLowerCase() === "content-type")).toEqual(["content-type"]);
    expect(h["content-type"]).toBe("application/json");
    expect(Object.keys(h).filter((k) => k.toLowerCase() === "webhook-id")).toEqual(["webhook-id"]);
    expect(Object.keys(h).filter((k) => k.toLowerCase() === "runhooks-chunk-count")).toEqual(["runhooks-chunk-count"]);
  });

  it("omit the signature without a signing secret", () => {
    const unsigned = toTarget({ id: target.webhookId, url: "https://hooks.example.com/in" });
    expect(attemptHeaders({ ...input, target: unsigned })["webhook-signature"]).toBeUndefined();
  });
});

describe("targets", () => {
  it("split the URL for undici and know the webhook's secrets", () => {
    const t = toTarget({
      id: "6ab80f10-d79c-4fa2-b441-922ed6feb630",
      url: "https://user:pa55word@hooks.example.com:8443/in/x?secret=s3cr3t-value&team=ml",
      headers: { "X-Api-Key": "header-secret-value" },
      signing_secret: SECRET,
    });
    expect(t.origin).toBe("https://hooks.example.com:8443");
    expect(t.path).toBe("/in/x?secret=s3cr3t-value&team=ml");
    expect(t.redactedUrl).toBe("https://user:***@hooks.example.com:8443/in/x?secret=***&team=ml");
    expect(t.headers["authorization"]).toBe(`Basic ${Buffer.from("user:pa55word").toString("base64")}`);
    for (const s of ["s3cr3t-value", "header-secret-value", "pa55word", SECRET]) expect(t.secrets).toContain(s);
  });
});
