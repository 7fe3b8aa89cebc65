import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

/** One request the receiver got, as it got it. */
export interface ReceivedRequest {
  readonly path: string;
  /** `webhook-id`: the delivery id, the same on every attempt. */
  readonly deliveryId: string;
  /** `runhooks-attempt`. */
  readonly attempt: number;
  /** Wall-clock ms when the whole body had arrived. */
  readonly arrivedAt: number;
  /** The Standard Webhooks signature checked out with the demo's signing secret. */
  readonly verified: boolean;
  /** What the receiver answered. */
  readonly status: number;
  readonly ruleId: string | undefined;
  readonly startTime: string | undefined;
  readonly endTime: string | undefined;
  readonly runIds: readonly string[];
}

export interface WebhookReceiver {
  readonly url: string;
  readonly requests: readonly ReceivedRequest[];
  close(): Promise<void>;
}

export interface ReceiverOptions {
  readonly signingSecret: string;
  /**
   * Answer 503 to the first attempt of the 1st, (n+1)th, (2n+1)th… delivery to arrive, as a flaky
   * endpoint would, so the demo shows retries (and always at least one).
   */
  readonly failOneFirstAttemptIn?: number;
}

function header(request: IncomingMessage, name: string): string {
  const value = request.headers[name];
  return Array.isArray(value) ? (value[0] ?? "") : (value ?? "");
}

/**
 * A local webhook receiver as a user would write one: it verifies each request's Standard Webhooks
 * signature (401 when it does not verify) and acknowledges with 204. It records every request.
 */
export async function startReceiver(options: ReceiverOptions): Promise<WebhookReceiver> {
  const webhook = new Webhook(options.signingSecret);
  const requests: ReceivedRequest[] = [];
  let firstAttempts = 0;
  const handle = (request: IncomingMessage, response: ServerResponse, body: string) => {
    const arrivedAt = Date.now();
    const deliveryId = header(request, "webhook-id");
    let verified = true;
    try {
      webhook.verify(body, {
        "webhook-id": deliveryId,
        "webhook-timestamp": header(request, "webhook-timestamp"),
        "webhook-signature": header(request, "webhook-signature"),
      });
    } catch {
      verified = false;
    }
    let payload: { rule_id?: unknown; start_time?: unknown; end_time?: unknown; runs?: unknown } = {};
    try {
      payload = JSON.parse(body) as typeof payload;
    } catch {
      verified = false;
    }
    const attempt = Number(header(request, "runhooks-attempt")) || 0;
    const every = options.failOneFirstAttemptIn;
    const flaky = verified && attempt === 1 && every !== undefined && firstAttempts++ % every === 0;
    const status = !verified ? 401 : flaky ? 503 : 204;
    const runs = Array.isArray(payload.runs) ? (payload.runs as { id?: unknown }[]) : [];
    requests.push({
      path: (request.url ?? "/").split("?")[0] ?? "/",
      deliveryId,
      attempt,
      arrivedAt,
      verified,
      status,
      ruleId: typeof payload.rule_id === "string" ? payload.rule_id : undefined,
      startTime: typeof payload.start_time === "string" ? payload.start_time : undefined,
      endTime: typeof payload.end_time === "string" ? payload.end_time : undefined,
      runIds: runs.map((r) => String(r.id)),
    });
    response.writeHead(status).end();
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (c: Buffer) => chunks.push(c));
    request.on("end", () => handle(request, response, Buffer.concat(chunks).toString("utf8")));
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
