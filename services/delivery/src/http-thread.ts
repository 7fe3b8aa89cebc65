import { startServiceThread, type Logger } from "@runhooks/telemetry";
import type { AttemptResult } from "./attempt-result.js";
import type { AttemptSender } from "./attempt-sender.js";
import { crossingTarget, packRequests, unpackResults, type CrossingTarget, type OutgoingAttempt, type RequestBatch, type ResultBatch } from "./http-wire.js";
import type { Target } from "./target.js";

/**
 * The HTTP sender on a thread of its own. A delivery's POST — undici's request machinery, the socket
 * writes of headers and body, reading and scrubbing the response — costs the delivery process about as
 * much CPU as everything else it does for the delivery (decoding the window, storing and recording it,
 * publishing the attempt); on one thread each waits for the other. Here the event loop that talks to
 * Kafka and Postgres never touches a webhook socket, nor signs: attempts cross to the thread in
 * batches (http-wire.ts) and their results come back in batches.
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

export interface HttpThread extends AttemptSender {
  /** Undefined while the thread runs; otherwise why it stopped (reported by /healthz). */
  problem(): string | undefined;
}

/** To the thread. */
export type ToHttp = RequestBatch | { readonly type: "forget" } | { readonly type: "stop" };

/** From the thread, besides its lifecycle (ready, failed, log). */
export type FromHttp = ResultBatch;

interface Pending {
  readonly resolve: (result: AttemptResult) => void;
  readonly reject: (error: Error) => void;
}

/** A send the thread can no longer answer: the caller treats the attempt as interrupted (its lease expires). */
export class HttpThreadStoppedError extends Error {
  readonly retriable = true;
  override readonly name = "HttpThreadStoppedError";
}

/** The most targets the thread keeps; past it both sides forget them all and start again. */
const MAX_TARGETS = 10_000;

export async function startHttpThread(o: HttpThreadOptions): Promise<HttpThread> {
  const data: HttpWorkerData = {
    allowPrivate: o.allowPrivate,
    allowCidrs: o.allowCidrs,
    deadlineMs: o.deadlineMs,
    connectTimeoutMs: o.connectTimeoutMs,
    connectionsPerOrigin: o.connectionsPerOrigin,
  };
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let stopping = false;
  const thread = await startServiceThread<ToHttp, FromHttp>({
    from: import.meta.url,
    name: "http-worker",
    workerData: data,
    label: "the HTTP thread",
    log: o.log,
    onMessage(m) {
      for (const { id, result } of unpackResults(m)) {
        const p = pending.get(id);
        pending.delete(id);
        p?.resolve(result);
      }
    },
    onStopped(reason) {
      for (const p of pending.values()) p.reject(new HttpThreadStoppedError(reason));
      pending.clear();
    },
  });

  /** Targets the thread knows, by the number it knows them by. */
  const targetKeys = new Map<Target, number>();
  let nextKey = 0;
  // Attempts of one turn of the event loop cross together.
  let batch: OutgoingAttempt[] = [];
  let newTargets: CrossingTarget[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const { batch: message, transfer } = packRequests(batch, newTargets);
    batch = [];
    newTargets = [];
    thread.post(message, transfer);
  };
  const keyOf = (target: Target): number => {
    let key = targetKeys.get(target);
    if (key !== undefined) return key;
    if (targetKeys.size >= MAX_TARGETS) {
      // Whatever is queued still refers to the old keys: send it first.
      if (batch.length > 0) flush();
      targetKeys.clear();
      thread.post({ type: "forget" });
    }
    key = nextKey++;
    targetKeys.set(target, key);
    newTargets.push(crossingTarget(key, target));
    return key;
  };

  return {
    problem: () => thread.problem(),
    send(request) {
      const problem = thread.problem();
      if (problem !== undefined || stopping) return Promise.reject(new HttpThreadStoppedError(problem ?? "the sender is stopping"));
      const id = nextId;
      nextId = (nextId + 1) >>> 0; // ids cross as 32-bit numbers
      return new Promise<AttemptResult>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        batch.push({ id, targetKey: keyOf(request.target), request });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    async close() {
      stopping = true;
      if (batch.length > 0) flush();
      // The thread answers what is in flight (each by its deadline), then ends.
      await thread.stop({ type: "stop" }, o.deadlineMs * 2 + 5000);
    },
  };
}
