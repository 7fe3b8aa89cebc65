import { afterAll, describe, expect, it } from "vitest";
import { HttpThreadStoppedError, startHttpThread, toTarget, type HttpThread } from "@runhooks/delivery";
import { freePort, reply, startReceiver, type Receiver } from "./receiver.js";

const WEBHOOK_ID = "00000000-0000-4000-8000-000000000001";
const quiet = () => undefined;

describe("the HTTP thread", () => {
  const receivers: Receiver[] = [];
  const threads: HttpThread[] = [];
  afterAll(async () => {
    for (const t of threads) await t.close();
    for (const r of receivers) await r.close();
  });
  async function thread(allowCidrs: string[], deadlineMs = 2000): Promise<HttpThread> {
    const t = await startHttpThread({ allowPrivate: false, allowCidrs, deadlineMs, connectTimeoutMs: 1000, connectionsPerOrigin: 8, log: quiet });
    threads.push(t);
    return t;
  }
  async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
    const r = await startReceiver(...args);
    receivers.push(r);
    return r;
  }

  it("sends every request of a batch with its own body and headers, byte for byte", async () => {
    const r = await receiver(reply(200, "ok"));
    const t = await thread(["127.0.0.1/32"]);
    const target = toTarget({ id: WEBHOOK_ID, url: `${r.url}/hook?n=1` });
    // Sent in one turn of the event loop, so they cross together; sizes and multi-byte text vary.
    const bodies = Array.from({ length: 40 }, (_, i) => Buffer.from(JSON.stringify({ i, text: "é✓🙂".repeat(i * 37) })));
    const results = await Promise.all(bodies.map((body, i) => t.send({ target, headers: { "content-type": "application/json", "x-i": String(i) }, body })));
    expect(results.every((res) => res.kind === "response" && res.statusCode === 200 && res.excerpt === "ok")).toBe(true);
    expect(r.received).toHaveLength(bodies.length);
    for (const got of r.received) {
      const i = Number(got.headers["x-i"]);
      expect(got.body.equals(bodies[i]!)).toBe(true);
      expect(got.url).toBe("/hook?n=1");
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
    expect(await t.send({ target: to(`${failing.url}/x`), headers: {}, body })).toEqual({ kind: "response", statusCode: 503, excerpt: "down" });
    expect((await t.send({ target: to(`http://127.0.0.1:${await freePort()}/x`), headers: {}, body })).kind).toBe("connect_error");
    expect((await strict.send({ target: to(`${failing.url}/x`), headers: {}, body })).kind).toBe("ssrf_blocked");
    expect((await t.send({ target: to(`${slow.url}/x`), headers: {}, body })).kind).toBe("timeout");
  });

  it("scrubs the webhook's secrets from what comes back", async () => {
    const r = await receiver(reply(400, "bad token s3cr3t-value"));
    const t = await thread(["127.0.0.1/32"]);
    const result = await t.send({ target: toTarget({ id: WEBHOOK_ID, url: `${r.url}/x?secret=s3cr3t-value` }), headers: {}, body: Buffer.from("{}") });
    expect(result.kind).toBe("response");
    expect(JSON.stringify(result)).not.toContain("s3cr3t-value");
  });

  it("answers what is in flight before it closes, then refuses new sends", async () => {
    const r = await receiver(async (_r, _n, res) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      res.end("done");
    });
    const t = await startHttpThread({ allowPrivate: false, allowCidrs: ["127.0.0.1/32"], deadlineMs: 2000, connectTimeoutMs: 1000, connectionsPerOrigin: 4, log: quiet });
    const inFlight = t.send({ target: toTarget({ id: WEBHOOK_ID, url: `${r.url}/x` }), headers: {}, body: Buffer.from("{}") });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await t.close();
    expect(await inFlight).toEqual({ kind: "response", statusCode: 200, excerpt: "done" });
    await expect(t.send({ target: toTarget({ id: WEBHOOK_ID, url: `${r.url}/x` }), headers: {}, body: Buffer.from("{}") })).rejects.toBeInstanceOf(HttpThreadStoppedError);
    expect(t.problem()).toBeUndefined();
  });
});
