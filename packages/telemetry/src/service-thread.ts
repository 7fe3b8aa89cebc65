import type { Logger } from "./log.js";
import { startModuleWorker } from "./module-worker.js";

/**
 * What every service thread may send besides its own messages: that it is ready (or could not get
 * ready, and why), and log lines for the parent's logger.
 */
export type ThreadLifecycleMessage =
  | { readonly type: "ready" }
  | { readonly type: "failed"; readonly message: string }
  | {
      readonly type: "log";
      readonly level: "error" | "warn" | "info" | "debug";
      readonly message: string;
      readonly fields: Record<string, unknown>;
    };

export interface ServiceThreadOptions<FromThread> {
  /** The caller's `import.meta.url` and the module beside it that the thread runs (startModuleWorker). */
  readonly from: string;
  readonly name: string;
  readonly workerData: unknown;
  /** How the thread is named in problems and logs, e.g. "the HTTP thread". */
  readonly label: string;
  readonly log: Logger;
  /** The thread's own messages (everything but the lifecycle ones). */
  onMessage(message: FromThread): void;
  /** The thread stopped (failed or exited), told once: whatever waits for an answer from it must be failed now. */
  onStopped(problem: string): void;
}

export interface ServiceThread<ToThread> {
  post(message: ToThread, transfer?: readonly ArrayBuffer[]): void;
  /** Undefined while the thread runs (or stopped because it was asked to); otherwise why it stopped. */
  problem(): string | undefined;
  /**
   * Asks the thread to finish (`message`) and waits until it has ended; after `graceMs` it is
   * terminated. Resolves at once for a thread that already ended.
   */
  stop(message: ToThread, graceMs: number): Promise<void>;
}

/**
 * Starts a worker thread and resolves once it says it is ready; rejects (and ends the thread) if it
 * fails or exits first. After that, a thread that fails or exits unasked sets `problem()` — which a
 * service reports through /healthz — and `onStopped` fails whatever waited for it.
 */
export async function startServiceThread<ToThread, FromThread>(
  o: ServiceThreadOptions<FromThread>,
): Promise<ServiceThread<ToThread>> {
  const worker = startModuleWorker(o.from, o.name, o.workerData);
  let problem: string | undefined;
  let stopping = false;
  let exited = false;
  const exit = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  // A thread that throws emits "error" and then "exit": whatever waits for it is told once.
  let told = false;
  const stopped = (reason: string) => {
    if (told) return;
    told = true;
    o.onStopped(reason);
  };

  const ready = new Promise<void>((resolve, reject) => {
    worker.on("message", (m: ThreadLifecycleMessage | FromThread) => {
      const lifecycle = m as ThreadLifecycleMessage;
      if (lifecycle.type === "ready") resolve();
      else if (lifecycle.type === "failed") reject(new Error(lifecycle.message));
      else if (lifecycle.type === "log") o.log(lifecycle.level, lifecycle.message, lifecycle.fields);
      else o.onMessage(m as FromThread);
    });
    worker.on("error", (error) => {
      problem = `${o.label} failed: ${error.message}`;
      o.log("error", problem, {});
      reject(error);
      stopped(problem);
    });
    worker.on("exit", (code) => {
      exited = true;
      if (!stopping && problem === undefined) problem = `${o.label} exited (code ${code})`;
      const reason = problem ?? `${o.label} stopped`;
      reject(new Error(reason));
      stopped(reason);
    });
  });
  try {
    await ready;
  } catch (error) {
    await worker.terminate();
    throw error;
  }

  return {
    post: (message, transfer = []) => worker.postMessage(message, transfer),
    problem: () => problem,
    async stop(message, graceMs) {
      if (stopping || exited) return exit;
      stopping = true;
      worker.postMessage(message);
      const timer = setTimeout(() => void worker.terminate(), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}
