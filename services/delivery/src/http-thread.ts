import { RunhooksError } from "@runhooks/errors";
import { startServiceThread, type Logger, type ServiceThread } from "@runhooks/telemetry";
import type { AttemptResult } from "./attempt-result.js";
import type { AttemptSender } from "./attempt-sender.js";
import {
  crossingTarget,
  packRequests,
  unpackResults,
  type CrossingTarget,
  type OutgoingAttempt,
  type RequestBatch,
  type ResultBatch,
} from "./http-wire.js";
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
  /** A thread runs again after one died: attempts waiting for it may start. */
  readonly onRestarted?: () => void;
}

/** What the thread is started with: the options that can cross threads. */
export type HttpWorkerData = Omit<HttpThreadOptions, "log" | "onRestarted">;

/**
 * The HTTP thread, restarted when it dies (the process stays up: its Kafka, Postgres and claims are
 * fine, and what the dead thread had in flight is `interrupted` and sent again). While no thread runs,
 * `running()` is false — the workers claim and start nothing — and `problem()` says why (/healthz).
 */
export interface HttpThread extends AttemptSender {
  /** Undefined while the thread runs; otherwise why it stopped (reported by /healthz). */
  problem(): string | undefined;
  /** A thread runs and takes attempts. */
  running(): boolean;
  /** Makes the running thread throw, as a crash would (how its recovery is exercised). */
  fail(reason: string): void;
}

/** To the thread. */
export type ToHttp =
  | RequestBatch
  | { readonly type: "forget" }
  | { readonly type: "stop" }
  | { readonly type: "fail"; readonly reason: string };

/** From the thread, besides its lifecycle (ready, failed, log). */
export type FromHttp = ResultBatch;

interface Pending {
  readonly resolve: (result: AttemptResult) => void;
  readonly reject: (error: Error) => void;
}

/** A send the thread can no longer answer: the caller treats the attempt as interrupted (its lease expires). */
export class HttpThreadStoppedError extends RunhooksError {
  readonly code = "http_thread_stopped";
  readonly retriable = true;
  override readonly name = "HttpThreadStoppedError";
}

/** The most targets the thread keeps; past it both sides forget them all and start again. */
const MAX_TARGETS = 10_000;

/** Restarts of a thread that died come after 0.5 s, doubling to at most 30 s while it keeps dying young. */
const RESTART_FIRST_MS = 500;
const RESTART_MAX_MS = 30_000;
/** A thread that ran this long before dying was healthy: the next restart waits the shortest time again. */
const HEALTHY_RUN_MS = 60_000;

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
  /** Why no thread runs (it died and is being restarted), or undefined while one runs. */
  let down: string | undefined;
  let restartDelay = RESTART_FIRST_MS;
  let restartTimer: NodeJS.Timeout | undefined;
  let thread: ServiceThread<ToHttp>;

  /** Targets the thread knows, by the number it knows them by. */
  const targetKeys = new Map<Target, number>();
  let nextKey = 0;
  // Attempts of one turn of the event loop cross together.
  let batch: OutgoingAttempt[] = [];
  let newTargets: CrossingTarget[] = [];
  let scheduled = false;

  const launch = async (): Promise<ServiceThread<ToHttp>> => {
    const startedAt = Date.now();
    /** This launch's thread, once ready. */
    const launched: { thread?: ServiceThread<ToHttp> } = {};
    const started = await startServiceThread<ToHttp, FromHttp>({
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
        // Whatever it had in flight is interrupted (the caller sends it again).
        for (const p of pending.values()) p.reject(new HttpThreadStoppedError(reason));
        pending.clear();
        // A thread that never got ready is its caller's failure; a replaced one is forgotten.
        if (stopping || launched.thread === undefined || launched.thread !== thread) return;
        // A new thread knows none of the targets, and nothing queued for the dead one will be sent.
        down = reason;
        batch = [];
        newTargets = [];
        targetKeys.clear();
        if (Date.now() - startedAt >= HEALTHY_RUN_MS) restartDelay = RESTART_FIRST_MS;
        o.log("error", "the HTTP thread stopped; restarting it", { reason, inMs: restartDelay });
        restartTimer = setTimeout(restart, restartDelay);
        restartDelay = Math.min(RESTART_MAX_MS, restartDelay * 2);
      },
    });
    launched.thread = started;
    return started;
  };
  const restart = () => {
    restartTimer = undefined;
    if (stopping) return;
    launch().then(
      (started) => {
        if (stopping) {
          void started.stop({ type: "stop" }, o.deadlineMs * 2 + 5000);
          return;
        }
        thread = started;
        down = undefined;
        o.log("info", "the HTTP thread runs again");
        o.onRestarted?.();
      },
      (error: unknown) => {
        o.log("error", "could not restart the HTTP thread; trying again", { error: String(error), inMs: restartDelay });
        restartTimer = setTimeout(restart, restartDelay);
        restartDelay = Math.min(RESTART_MAX_MS, restartDelay * 2);
      },
    );
  };
  thread = await launch();

  const flush = () => {
    scheduled = false;
    if (batch.length === 0) return;
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
    problem: () => down ?? thread.problem(),
    running: () => !stopping && down === undefined && thread.problem() === undefined,
    fail(reason) {
      thread.post({ type: "fail", reason });
    },
    send(request) {
      const problem = down ?? thread.problem();
      if (problem !== undefined || stopping)
        return Promise.reject(new HttpThreadStoppedError(problem ?? "the sender is stopping"));
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
      if (restartTimer !== undefined) clearTimeout(restartTimer);
      if (batch.length > 0) flush();
      // The thread answers what is in flight (each by its deadline), then ends.
      await thread.stop({ type: "stop" }, o.deadlineMs * 2 + 5000);
    },
  };
}
