import { startModuleWorker, type Logger } from "@runhooks/telemetry";
import type { AttemptResult } from "./attempt-result.js";
import type { SendRequest, Sender } from "./sender.js";

/**
 * The HTTP sender on a thread of its own. A delivery's POST — undici's request machinery, the socket
 * writes of headers and body, reading and scrubbing the response — costs the delivery process about as
 * much CPU as everything else it does for the delivery (decoding the window, storing and recording it,
 * publishing the attempt); on one thread each waits for the other. Here the event loop that talks to
 * Kafka and Postgres never touches a webhook socket: requests cross to the thread in batches (the
 * bodies packed into one moved buffer) and their results come back in batches.
 */

export interface HttpThreadOptions {
  /** SSRF guard settings (the thread builds its own address policy from them). */
  readonly allowPrivate: boolean;
  readonly allowCidrs: readonly string[];
  readonly deadlineMs: number;
  readonly connectTimeoutMs: number;
  readonly connectionsPerOrigin: number;
  readonly log: Logger;
}

/** What the thread is started with: the options that can cross threads. */
export type HttpWorkerData = Omit<HttpThreadOptions, "log">;

export interface HttpThread extends Sender {
  /** Undefined while the thread runs; otherwise why it stopped (reported by /healthz). */
  problem(): string | undefined;
}

/** One request as it crosses: everything but its body, which travels packed with the batch's. */
export interface CrossingRequest {
  readonly id: number;
  readonly origin: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly secrets: readonly string[];
}

/** To the thread. Request i's body is `bytes[ends[i - 1] ?? 0, ends[i])`. */
export type ToHttp =
  | { readonly type: "send"; readonly requests: readonly CrossingRequest[]; readonly ends: Uint32Array; readonly bytes: Uint8Array }
  | { readonly type: "stop" };

/** From the thread. */
export type FromHttp =
  | { readonly type: "ready" }
  | { readonly type: "done"; readonly results: readonly { readonly id: number; readonly result: AttemptResult }[] }
  | { readonly type: "log"; readonly level: "error" | "warn"; readonly message: string; readonly fields: Record<string, unknown> };

interface Pending {
  readonly resolve: (result: AttemptResult) => void;
  readonly reject: (error: Error) => void;
}

/** A send the thread can no longer answer: the caller treats the attempt as interrupted (its lease expires). */
export class HttpThreadStoppedError extends Error {
  readonly retriable = true;
  override readonly name = "HttpThreadStoppedError";
}

export async function startHttpThread(o: HttpThreadOptions): Promise<HttpThread> {
  const data: HttpWorkerData = {
    allowPrivate: o.allowPrivate,
    allowCidrs: o.allowCidrs,
    deadlineMs: o.deadlineMs,
    connectTimeoutMs: o.connectTimeoutMs,
    connectionsPerOrigin: o.connectionsPerOrigin,
  };
  const worker = startModuleWorker(import.meta.url, "http-worker", data);
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let problem: string | undefined;
  let stopping = false;
  const exit = new Promise<void>((resolve) => worker.once("exit", () => resolve()));

  const failAll = (reason: string) => {
    for (const p of pending.values()) p.reject(new HttpThreadStoppedError(reason));
    pending.clear();
  };

  const ready = new Promise<void>((resolve, reject) => {
    worker.on("message", (m: FromHttp) => {
      switch (m.type) {
        case "ready":
          resolve();
          break;
        case "done":
          for (const { id, result } of m.results) {
            const p = pending.get(id);
            pending.delete(id);
            p?.resolve(result);
          }
          break;
        case "log":
          o.log(m.level, m.message, m.fields);
          break;
      }
    });
    worker.on("error", (error) => {
      problem = `the HTTP thread failed: ${error.message}`;
      o.log("error", problem, {});
      reject(error);
      failAll(problem);
    });
    worker.on("exit", (code) => {
      if (!stopping && problem === undefined) problem = `the HTTP thread exited (code ${code})`;
      reject(new Error(problem ?? "the HTTP thread stopped"));
      failAll(problem ?? "the HTTP thread stopped");
    });
  });
  try {
    await ready;
  } catch (error) {
    await worker.terminate();
    throw error;
  }

  // Requests of one turn of the event loop cross together.
  let batch: { request: SendRequest; id: number }[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const out = batch;
    batch = [];
    let total = 0;
    for (const { request } of out) total += request.body.byteLength;
    // A buffer of its own (not a slice of Node's shared pool), so it can be moved to the thread.
    const bytes = Buffer.allocUnsafeSlow(total);
    const ends = new Uint32Array(out.length);
    const requests: CrossingRequest[] = [];
    let at = 0;
    for (let i = 0; i < out.length; i++) {
      const { request, id } = out[i]!;
      bytes.set(request.body, at);
      at += request.body.byteLength;
      ends[i] = at;
      requests.push({ id, origin: request.target.origin, path: request.target.path, headers: request.headers, secrets: request.target.secrets });
    }
    worker.postMessage({ type: "send", requests, ends, bytes } satisfies ToHttp, [bytes.buffer, ends.buffer]);
  };

  return {
    problem: () => problem,
    send(request) {
      if (problem !== undefined || stopping) return Promise.reject(new HttpThreadStoppedError(problem ?? "the sender is stopping"));
      const id = nextId++;
      return new Promise<AttemptResult>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        batch.push({ request, id });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    async close() {
      if (stopping) return exit;
      stopping = true;
      if (batch.length > 0) flush();
      worker.postMessage({ type: "stop" } satisfies ToHttp);
      // The thread answers what is in flight (each by its deadline), then ends.
      const timer = setTimeout(() => void worker.terminate(), o.deadlineMs * 2 + 5000);
      await exit;
      clearTimeout(timer);
    },
  };
}
