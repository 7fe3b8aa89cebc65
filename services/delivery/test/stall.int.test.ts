import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { createAddressPolicy } from "../src/address-policy.js";
import { createSender } from "../src/sender.js";
import { outcomeOf } from "../src/attempt-result.js";
import { toTarget } from "../src/target.js";

/**
 * A receiver in another process (a stall of this process must not stall it): it says "got <path>" on
 * stdout when a request arrives and answers 200 after `delayMs`, or never for path /hold.
 */
async function childReceiver(
  delayMs: number,
): Promise<{ url: string; child: ChildProcess; lines: AsyncIterator<string> }> {
  const script = `
    const http = require("node:http");
    const server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        process.stdout.write("got " + req.url + "\\n");
        if (req.url !== "/hold") setTimeout(() => res.writeHead(200).end("ok"), ${delayMs});
      });
    });
    server.listen(0, "127.0.0.1", () => process.stdout.write("port " + server.address().port + "\\n"));`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  const port = /^port (\d+)$/.exec(String(first.value))?.[1];
  if (port === undefined) throw new Error(`the receiver did not start: ${String(first.value)}`);
  return { url: `http://127.0.0.1:${port}`, child, lines };
}

/** Stops this thread's event loop for `ms`, as SIGSTOP or a long GC pause would. */
function stallFor(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe("a stalled process never fails an attempt by a late deadline", () => {
  const DEADLINE = 1000;
  const sender = createSender({
    policy: createAddressPolicy({ allowPrivate: false, allowCidrs: ["127.0.0.1/32"] }),
    deadlineMs: DEADLINE,
    connectTimeoutMs: 1000,
    connectionsPerOrigin: 2,
  });
  const children: ChildProcess[] = [];
  afterAll(async () => {
    await sender.close();
    for (const c of children) c.kill("SIGKILL");
  });
  const send = (url: string) =>
    sender.send({
      target: toTarget({ id: "00000000-0000-4000-8000-000000000001", url }),
      headers: {},
      body: Buffer.from("{}"),
    });

  it("an answer that arrived during the stall is read and stands (not a timeout)", async () => {
    const r = await childReceiver(300);
    children.push(r.child);
    const result = send(`${r.url}/answer`);
    // The request reached the receiver; its answer comes while this process is stalled past the deadline.
    expect((await r.lines.next()).value).toBe("got /answer");
    stallFor(DEADLINE * 3);
    const settled = await result;
    expect(settled).toEqual({ kind: "response", statusCode: 200, excerpt: "ok" });
  });

  it("no answer after a stall past the deadline: interrupted (sent again), not a final timeout", async () => {
    const r = await childReceiver(0);
    children.push(r.child);
    const result = send(`${r.url}/hold`);
    expect((await r.lines.next()).value).toBe("got /hold");
    stallFor(DEADLINE * 3);
    const settled = await result;
    expect(settled.kind).toBe("interrupted");
    expect(outcomeOf(settled)).toBe("interrupted");
    if (settled.kind === "interrupted") expect(settled.error).toMatch(/^interrupted: this process stalled for \d+ ms/);
  });

  it("no stall: a held request is still a timeout at the deadline", async () => {
    const r = await childReceiver(0);
    children.push(r.child);
    const t0 = performance.now();
    const settled = await send(`${r.url}/hold`);
    expect(settled.kind).toBe("timeout");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(DEADLINE - 5);
  });
});
