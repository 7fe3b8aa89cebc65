import { connect, type Socket } from "node:net";
import type { Ingest } from "@runhooks/ingest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIngestHarness, type IngestHarness } from "./harness.js";

/** A raw connection, with everything the server sent and a promise of its closing. */
interface Raw {
  readonly socket: Socket;
  received(): string;
  readonly closed: Promise<void>;
  /** Resolves once the received text matches. */
  waitFor(pattern: RegExp): Promise<string>;
}

function open(url: string): Promise<Raw> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let text = "";
    const waiters: { pattern: RegExp; resolve: (s: string) => void }[] = [];
    const closed = new Promise<void>((done) => socket.once("close", () => done()));
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
      for (const w of waiters.splice(0)) {
        if (w.pattern.test(text)) w.resolve(text);
        else waiters.push(w);
      }
    });
    socket.on("error", () => undefined);
    socket.once("connect", () =>
      resolve({
        socket,
        received: () => text,
        closed,
        waitFor: (pattern) =>
          pattern.test(text) ? Promise.resolve(text) : new Promise((r) => waiters.push({ pattern, resolve: r })),
      }),
    );
    socket.once("error", reject);
  });
}

describe("ingest connections: timeouts and a cap", () => {
  let h: IngestHarness;
  let ingest: Ingest;

  beforeAll(async () => {
    h = await createIngestHarness("connections");
    ingest = await h.start({ headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 300 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("answers 408 and closes a connection whose headers never end", async () => {
    const raw = await open(ingest.url);
    raw.socket.write("POST /runs/batch HTTP/1.1\r\nHost: ingest\r\n");
    await raw.closed;
    expect(raw.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it("answers 408 and closes a request whose body stalls", async () => {
    const raw = await open(ingest.url);
    raw.socket.write(
      `POST /runs/batch HTTP/1.1\r\nHost: ingest\r\nx-api-key: ${h.apiKey}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"post": [`,
    );
    await raw.closed;
    expect(raw.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it("closes an idle keep-alive connection after its answer", async () => {
    const raw = await open(ingest.url);
    raw.socket.write("GET /healthz HTTP/1.1\r\nHost: ingest\r\nConnection: keep-alive\r\n\r\n");
    await raw.waitFor(/\r\n\r\n\{"status":"ok"\}/);
    await raw.closed;
    expect(raw.received()).toMatch(/^HTTP\/1\.1 200/);
  });

  it("closes connections past the cap at once, and serves again once they go", async () => {
    // Idle keep-alive connections held open (the default idle timeout is far away).
    const capped = await h.start({ maxConnections: 3 });
    const held: Raw[] = [];
    for (let i = 0; i < 3; i++) {
      const raw = await open(capped.url);
      raw.socket.write("GET /healthz HTTP/1.1\r\nHost: ingest\r\nConnection: keep-alive\r\n\r\n");
      await raw.waitFor(/\{"status":"ok"\}/);
      held.push(raw);
    }
    const extra = await open(capped.url);
    extra.socket.write("GET /healthz HTTP/1.1\r\nHost: ingest\r\n\r\n");
    await extra.closed;
    expect(extra.received()).toBe("");
    for (const raw of held) raw.socket.destroy();
    await Promise.all(held.map((raw) => raw.closed));
    // The server sees the closes on its own schedule: ask until it answers.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const raw = await open(capped.url);
      raw.socket.write("GET /healthz HTTP/1.1\r\nHost: ingest\r\nConnection: close\r\n\r\n");
      await raw.closed;
      if (/^HTTP\/1\.1 200/.test(raw.received())) break;
      if (Date.now() > deadline) throw new Error("the server never served again");
      await new Promise((r) => setTimeout(r, 50));
    }
    await capped.stop();
  });
});
