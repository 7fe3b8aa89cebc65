import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attemptHeaders } from "../src/request-headers.js";
import { createAddressPolicy } from "../src/address-policy.js";
import { createSender, type Sender } from "../src/sender.js";
import { toTarget } from "../src/target.js";
import { reply, startReceiver, type Receiver } from "./receiver.js";

/**
 * The API refuses connection-level and runhooks-owned header names at write; a stored rule version
 * may still hold them. Delivery drops them, so such a webhook stays deliverable.
 */
describe("custom headers a stored version holds but delivery never sends", () => {
  let receiver: Receiver;
  let sender: Sender;
  beforeAll(async () => {
    receiver = await startReceiver(reply(200));
    sender = createSender({
      policy: createAddressPolicy({ allowPrivate: false, allowCidrs: ["127.0.0.1/32"] }),
      deadlineMs: 5000,
      connectTimeoutMs: 3000,
      connectionsPerOrigin: 2,
    });
  });
  afterAll(async () => {
    await sender?.close();
    await receiver?.close();
  });

  const stored = {
    "Transfer-Encoding": "chunked",
    Connection: "close",
    "Keep-Alive": "timeout=1",
    Upgrade: "h2c",
    TE: "trailers",
    Trailer: "x-checksum",
    Expect: "100-continue",
    "Proxy-Authorization": "Basic cHJveHk6cHJveHk=",
    "Runhooks-Attempt": "99",
    "Runhooks-Chunk-Index": "7",
    "x-team": "ml",
  };
  const body = Buffer.from('{"rule_id":"r","start_time":"s","end_time":"e","runs":[]}');
  const headersOf = (target: ReturnType<typeof toTarget>) =>
    attemptHeaders({
      target,
      deliveryId: "9b1f1a8c-2a8e-4f00-8a77-3f1d5d0c9e01",
      attempt: 1,
      timestampSeconds: 1_712_280_534,
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      chunkIndex: 1,
      chunkCount: 3,
      body,
    });

  it("are dropped from the target: only the sendable custom header is left", () => {
    const target = toTarget({
      id: "00000000-0000-4000-8000-000000000001",
      url: `${receiver.url}/hook`,
      headers: stored,
    });
    expect(target.headers).toEqual({ "x-team": "ml" });
  });

  it("leave the webhook deliverable, with our attempt number and the body framed by its length", async () => {
    const target = toTarget({
      id: "00000000-0000-4000-8000-000000000001",
      url: `${receiver.url}/stored`,
      headers: stored,
    });
    const result = await sender.send({ target, headers: headersOf(target), body });
    expect(result).toMatchObject({ kind: "response", statusCode: 200 });
    const got = receiver.received.find((r) => r.url === "/stored");
    expect(got?.headers["x-team"]).toBe("ml");
    expect(got?.headers["runhooks-attempt"]).toBe("1");
    expect(got?.headers["runhooks-chunk-index"]).toBe("1");
    expect(got?.headers["runhooks-chunk-count"]).toBe("3");
    expect(got?.headers["content-length"]).toBe(String(body.length));
    for (const name of [
      "transfer-encoding",
      "keep-alive",
      "upgrade",
      "te",
      "trailer",
      "expect",
      "proxy-authorization",
    ]) {
      expect(got?.headers[name], name).toBeUndefined();
    }
    expect(got?.body.toString()).toBe(body.toString());
  });

  it("would make every send fail if sent: transfer-encoding is refused by the HTTP client", async () => {
    const target = toTarget({ id: "00000000-0000-4000-8000-000000000001", url: `${receiver.url}/forced` });
    const result = await sender.send({
      target,
      headers: { ...headersOf(target), "transfer-encoding": "chunked" },
      body,
    });
    expect(result.kind).toBe("request_failed");
    expect(receiver.received.find((r) => r.url === "/forced")).toBeUndefined();
  });
});
