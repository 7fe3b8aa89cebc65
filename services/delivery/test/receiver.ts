import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Webhook } from "standardwebhooks";

/** One request a test receiver got. */
export interface Received {
  /** `webhook-id`: the delivery id. */
  readonly id: string;
  readonly attempt: number;
  readonly timestamp: string;
  readonly headers: IncomingMessage["headers"];
  readonly url: string;
  readonly body: Buffer;
  /** Wall-clock ms when the request was complete. */
  readonly at: number;
  /** Whether standardwebhooks verified the signature (undefined: no secret given to check with). */
  readonly verified: boolean | undefined;
}

export type Behaviour = (req: Received, n: number, res: ServerResponse) => void | Promise<void>;

export interface Receiver {
  readonly url: string;
  readonly port: number;
  readonly received: Received[];
  close(): Promise<void>;
}

/**
 * A real local HTTP endpoint that behaves as told, per request (n counts from 1), and verifies the
 * Standard Webhooks signature of each request with the standardwebhooks package when given the secret.
 */
export async function startReceiver(
  behaviour: Behaviour,
  o: {
    port?: number;
    secret?: string;
    /** Reset this many connections first, before any answer (the sender's `connect_error`). */
    resetFirst?: number;
  } = {},
): Promise<Receiver> {
  let resets = o.resetFirst ?? 0;
  const received: Received[] = [];
  const verifier = o.secret === undefined ? undefined : new Webhook(o.secret);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const header = (name: string) => String(req.headers[name] ?? "");
      let verified: boolean | undefined;
      if (verifier) {
        try {
          verifier.verify(body, {
            "webhook-id": header("webhook-id"),
            "webhook-timestamp": header("webhook-timestamp"),
            "webhook-signature": header("webhook-signature"),
          });
          verified = true;
        } catch {
          verified = false;
        }
      }
      const r: Received = {
        id: header("webhook-id"),
        attempt: Number(header("runhooks-attempt")),
        timestamp: header("webhook-timestamp"),
        headers: req.headers,
        url: req.url ?? "",
        body,
        at: Date.now(),
        verified,
      };
      received.push(r);
      void Promise.resolve(behaviour(r, received.length, res)).catch(() => res.destroy());
    });
  });
  // Connections kept alive by the sender must not hold close() up.
  const sockets = new Set<Socket>();
  server.on("connection", (s) => {
    if (resets > 0) {
      resets--;
      s.resetAndDestroy();
      return;
    }
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, "127.0.0.1", resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export const reply =
  (status: number, body = "", headers: Record<string, string> = {}): Behaviour =>
  (_r, _n, res) => {
    res.writeHead(status, { "content-type": "text/plain", ...headers }).end(body);
  };

/** A port that nothing listens on (bound, then released). */
export { freePort } from "../../../test/support/net.js";
