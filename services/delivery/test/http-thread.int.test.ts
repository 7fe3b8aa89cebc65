import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { eventually } from "./harness.js";
import { HttpThreadStoppedError, startHttpThread, type HttpThread } from "../src/http-thread.js";
import { toTarget, type Target } from "../src/target.js";
import type { AttemptRequest } from "../src/attempt-sender.js";
import { freePort, reply, startReceiver, type Receiver } from "./receiver.js";

const WEBHOOK_ID = "00000000-0000-4000-8000-000000000001";
const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const quiet = () => undefined;

const attempt = (
  target: Target,
  body: Buffer,
  n = 1,
  deliveryId = "7f0c1a52-8f3e-5b8a-9c1d-2e4f6a8b0c1d",
): AttemptRequest => ({
  target,
  deliveryId,
  attempt: n,
  timestampSeconds: Math.floor(Date.now() / 1000),
  traceparent: TRACEPARENT,
  chunkIndex: 0,
  chunkCount: 1,
  body,
});

describe("the HTTP thread", () => {
  const receivers: Receiver[] = [];
  const threads: HttpThread[] = [];
  afterAll(async () => {
    for (const t of threads) await t.close();
    for (const r of receivers) await r.close();
  });
  async function thread(allowCidrs: string[], deadlineMs = 2000): Promise<HttpThread> {
    const t = await startHttpThread({
      allowPrivate: false,
      allowCidrs,
      deadlineMs,
      connectTimeoutMs: 1000,
      connectionsPerOrigin: 8,
      log: quiet,
    });
    threads.push(t);
    return t;
  }
  async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
    const r = await startReceiver(...args);
    receivers.push(r);
    return r;
  }

  it("sends every attempt of a batch with its own body, headers and a signature the receiver verifies", async () => {
    const secret = `whsec_${randomBytes(24).toString("base64")}`;
    const r = await receiver(reply(200, "ok"), { secret });
    const t = await thread(["127.0.0.1/32"]);
    const signed = toTarget({
      id: WEBHOOK_ID,
      url: `${r.url}/hook?n=1`,
      headers: { "X-Team": "ml" },
      signing_secret: secret,
    });
    const plain = toTarget({ id: "00000000-0000-4000-8000-000000000002", url: `${r.url}/plain` });
    // Sent in one turn of the event loop, so they cross together; sizes and multi-byte text vary.
    const bodies = Array.from({ length: 40 }, (_, i) =>
      Buffer.from(JSON.stringify({ i, text: "é✓🙂".repeat(i * 37) })),
    );
    const ids = bodies.map((_, i) => `7f0c1a52-8f3e-5b8a-9c1d-${String(i).padStart(12, "0")}`);
    const results = await Promise.all(
      bodies.map((body, i) => t.send(attempt(i % 4 === 3 ? plain : signed, body, 1 + (i % 3), ids[i]))),
    );
    expect(results.every((res) => res.kind === "response" && res.statusCode === 200 && res.excerpt === "ok")).toBe(
      true,
    );
    expect(r.received).toHaveLength(bodies.length);
    for (const got of r.received) {
      const i = ids.indexOf(got.id);
      expect(i).toBeGreaterThanOrEqual(0);
      expect(got.body.equals(bodies[i]!)).toBe(true);
      expect(got.attempt).toBe(1 + (i % 3));
      expect(got.headers["traceparent"]).toBe(TRACEPARENT);
      if (i % 4 === 3) {
        expect(got.url).toBe("/plain");
        expect(got.headers["webhook-signature"]).toBeUndefined();
      } else {
        expect(got.url).toBe("/hook?n=1");
        expect(got.headers["x-team"]).toBe("ml");
        expect(got.verified).toBe(true);
      }
    }
  });

  it("gives the sender's outcomes: a status, a refused connection, an SSRF refusal, a timeout", async () => {
    const failing = await receiver(reply(503, "down"));
    const slow = await receiver(async (_r, _n, res) => {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      res.end("late");
    });
    const t = await thread(["127.0.0.1/32"], 500);
    const strict = await thread([]);
    const body = Buffer.from("{}");
    const to = (url: string) => toTarget({ id: WEBHOOK_ID, url });
    expect(await t.send(attempt(to(`${failing.url}/x`), body))).toEqual({
      kind: "response",
      statusCode: 503,
      excerpt: "down",
    });
    expect((await t.send(attempt(to(`http://127.0.0.1:${await freePort()}/x`), body))).kind).toBe("connect_error");
    expect((await strict.send(attempt(to(`${failing.url}/x`), body))).kind).toBe("ssrf_blocked");
    expect(await t.send(attempt(to(`${slow.url}/x`), body))).toEqual({
      kind: "timeout",
      error: "no response within 500 ms",
    });
  });

  it("scrubs the webhook's secrets from what comes back", async () => {
    const r = await receiver(reply(400, "bad token s3cr3t-value"));
    const t = await thread(["127.0.0.1/32"]);
    const result = await t.send(
      attempt(toTarget({ id: WEBHOOK_ID, url: `${r.url}/x?secret=s3cr3t-value` }), Buffer.from("{}")),
    );
    expect(result.kind).toBe("response");
    expect(JSON.stringify(result)).not.toContain("s3cr3t-value");
  });

  it("a thread that dies gives back what it had in flight, says why, and is restarted", async () => {
    const r = await receiver(async (_r, n, res) => {
      // The first request is held until the thread has died.
      if (n === 1) await new Promise((resolve) => setTimeout(resolve, 1500));
      res.end(`answer ${n}`);
    });
    let restarted = 0;
    const t = await startHttpThread({
      allowPrivate: false,
      allowCidrs: ["127.0.0.1/32"],
      deadlineMs: 3000,
      connectTimeoutMs: 1000,
      connectionsPerOrigin: 4,
      log: quiet,
      onRestarted: () => restarted++,
    });
    threads.push(t);
    const target = toTarget({ id: WEBHOOK_ID, url: `${r.url}/x` });
    expect(t.running()).toBe(true);
    const held = t.send(attempt(target, Buffer.from("{}")));
    await eventually("the receiver to get the request", () => r.received.length === 1);
    t.fail("a bug in the HTTP thread");
    // What the dead thread had in flight is given back at once (the worker records it interrupted).
    await expect(held).rejects.toBeInstanceOf(HttpThreadStoppedError);
    expect(t.running()).toBe(false);
    expect(t.problem()).toMatch(/the HTTP thread failed: a bug in the HTTP thread/);
    await expect(t.send(attempt(target, Buffer.from("{}")))).rejects.toBeInstanceOf(HttpThreadStoppedError);
    await eventually("the thread to be restarted", () => t.running(), 10_000);
    expect(restarted).toBe(1);
    expect(t.problem()).toBeUndefined();
    // The new thread learns the target afresh and sends.
    expect(await t.send(attempt(target, Buffer.from("{}")))).toEqual({
      kind: "response",
      statusCode: 200,
      excerpt: "answer 2",
    });
  });

  it("answers what is in flight before it closes, then refuses new sends", async () => {
    const r = await receiver(async (_r, _n, res) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      res.end("done");
    });
    const t = await startHttpThread({
      allowPrivate: false,
      allowCidrs: ["127.0.0.1/32"],
      deadlineMs: 2000,
      connectTimeoutMs: 1000,
      connectionsPerOrigin: 4,
      log: quiet,
    });
    const target = toTarget({ id: WEBHOOK_ID, url: `${r.url}/x` });
    const inFlight = t.send(attempt(target, Buffer.from("{}")));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await t.close();
    expect(await inFlight).toEqual({ kind: "response", statusCode: 200, excerpt: "done" });
    await expect(t.send(attempt(target, Buffer.from("{}")))).rejects.toBeInstanceOf(HttpThreadStoppedError);
    expect(t.problem()).toBeUndefined();
  });
});
