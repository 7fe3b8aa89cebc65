import { createServer, type Server } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { createAddressPolicy } from "../src/address-policy.js";
import { createSender } from "../src/sender.js";
import { toTarget } from "../src/target.js";

/** A TCP server that answers every connection with `reply` (or resets it when null). */
async function rawServer(reply: string | null): Promise<{ url: string; server: Server }> {
  const server = createServer((socket) => {
    socket.once("data", () => {
      if (reply === null) socket.resetAndDestroy();
      else socket.end(reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { url: `http://127.0.0.1:${address.port}/hook`, server };
}

describe("sender outcomes against real sockets", () => {
  const sender = createSender({
    policy: createAddressPolicy({ allowPrivate: false, allowCidrs: ["127.0.0.1/32"] }),
    deadlineMs: 2000,
    connectTimeoutMs: 1000,
    connectionsPerOrigin: 2,
  });
  const servers: Server[] = [];
  afterAll(async () => {
    await sender.close();
    for (const s of servers) s.close();
  });
  const send = (url: string, headers: Record<string, string> = {}) =>
    sender.send({
      target: toTarget({ id: "00000000-0000-4000-8000-000000000001", url }),
      headers,
      body: Buffer.from("{}"),
    });

  it("an answer that is not HTTP is invalid_response, not a connect error", async () => {
    const { url, server } = await rawServer("SSH-2.0-OpenSSH_9.6\r\n\r\n");
    servers.push(server);
    const result = await send(url);
    expect(result.kind).toBe("invalid_response");
  });

  it("a connection reset before any response byte is a connect error", async () => {
    const { url, server } = await rawServer(null);
    servers.push(server);
    expect((await send(url)).kind).toBe("connect_error");
  });

  it("a refused connection is a connect error", async () => {
    const { url, server } = await rawServer("");
    server.close();
    await new Promise((r) => setTimeout(r, 50));
    expect((await send(url)).kind).toBe("connect_error");
  });

  it("reads a failure's Retry-After (seconds), and none from a success", async () => {
    const throttled = await rawServer("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\ncontent-length: 0\r\n\r\n");
    const fine = await rawServer("HTTP/1.1 200 OK\r\nRetry-After: 7\r\ncontent-length: 0\r\n\r\n");
    servers.push(throttled.server, fine.server);
    expect(await send(throttled.url)).toEqual({ kind: "response", statusCode: 429, excerpt: null, retryAfterMs: 7000 });
    expect(await send(fine.url)).toEqual({ kind: "response", statusCode: 200, excerpt: null });
  });

  it("a request undici refuses to make is request_failed", async () => {
    const { url, server } = await rawServer("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    servers.push(server);
    expect((await send(url, { "x-bad": "a\nb" })).kind).toBe("request_failed");
  });
});

describe("sender deadline", () => {
  it("times out a request that waited for the origin's only connection, and the one holding it", async () => {
    const server = createServer((socket) => {
      // Never answers: the one connection stays busy until the client gives up on it.
      socket.on("data", () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    const sender = createSender({
      policy: createAddressPolicy({ allowPrivate: false, allowCidrs: ["127.0.0.1/32"] }),
      deadlineMs: 400,
      connectTimeoutMs: 1000,
      connectionsPerOrigin: 1,
    });
    try {
      const target = toTarget({
        id: "00000000-0000-4000-8000-000000000001",
        url: `http://127.0.0.1:${address.port}/hook`,
      });
      const first = sender.send({ target, headers: {}, body: Buffer.from("{}") });
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Queued behind the first on the origin's single connection.
      const second = await sender.send({ target, headers: {}, body: Buffer.from("{}") });
      expect(second).toEqual({ kind: "timeout", error: "no response within 400 ms" });
      expect((await first).kind).toBe("timeout");
    } finally {
      await sender.close();
      server.close();
    }
  });
});
