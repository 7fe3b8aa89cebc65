import pg from "pg";
import { holdsInstanceLockQuery, tryInstanceLockQuery } from "@runhooks/db";
import type { Logger } from "@runhooks/telemetry";

export interface InstanceLockOptions {
  readonly databaseUrl: string;
  readonly instanceId: string;
  readonly log: Logger;
  /** How often the held lock is checked. Default 1 s. */
  readonly checkEveryMs?: number;
  /**
   * How often a lost lock is tried again (the first try comes at once). Default 250 ms: a process whose
   * connection dropped (a Postgres restart) holds it again before other processes judge it dead.
   */
  readonly retakeEveryMs?: number;
  /**
   * A check unanswered this long means the lock's connection is gone (default 5 s). Judged after the
   * socket was read: a process resuming from a stall reads the answer waiting for it first.
   */
  readonly answerWithinMs?: number;
  /** Told each time the lock is held again after it was lost (the workers may claim again). */
  readonly onHeld?: () => void;
  /** Ends the wait for the lock at start. */
  readonly signal?: AbortSignal;
}

export interface InstanceLock {
  /** The lock is held: only then may this process claim a delivery or start an attempt. */
  held(): boolean;
  /** Undefined while it is held; otherwise why not (/healthz). */
  problem(): string | undefined;
  /** The backend of the session holding it, while held. */
  backendPid(): number | undefined;
  /** Releases it, ending its session: whatever this process still claims is anyone's at once. */
  close(): Promise<void>;
}

type State =
  | { readonly kind: "held"; readonly client: pg.Client; readonly pid: number }
  | { readonly kind: "lost"; readonly reason: string }
  | { readonly kind: "closed" };

/** One try at the lock, on a connection of its own, kept only if it got the lock. */
type Attempt =
  | { readonly kind: "held"; readonly client: pg.Client; readonly pid: number }
  | { readonly kind: "taken" }
  | { readonly kind: "failed"; readonly error: string };

/** How long closing waits for a connection to say goodbye before it is left to the process' end. */
const END_WITHIN_MS = 2000;

/** Waits `ms`, or less if `signal` aborts. */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });

/** A wait that `wake()` ends early (or, called between waits, makes the next one return at once). */
function napper() {
  let woken = false;
  let end: (() => void) | undefined;
  return {
    nap: (ms: number) =>
      new Promise<void>((resolve) => {
        if (woken) {
          woken = false;
          return resolve();
        }
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          end = undefined;
          resolve();
        }
        end = done;
      }),
    wake() {
      if (end) end();
      else woken = true;
    },
  };
}

/**
 * Takes this instance's liveness lock (DESIGN.md §5) — a session-level advisory lock keyed by the
 * instance id, on a connection of its own (not the pool) — and holds it for the life of the process.
 * Resolves once it is held: while another session holds it (a process with the same instance id, or
 * this id's previous process whose session Postgres has not closed yet) it waits, trying every check
 * period, until it gets it or `signal` aborts.
 *
 * Invariant: `held()` is true only while a connection that took the lock is open and answered its last
 * check. The connection ending, erring, answering that its session no longer holds the lock, or not
 * answering within `answerWithinMs` makes it false at once; the connection is dropped and the lock
 * taken again on a new one. Every connection keeps its error listener until the process ends, so an
 * error arriving after it was dropped (its backend gone, a reset socket) is never unhandled.
 */
export async function acquireInstanceLock(o: InstanceLockOptions): Promise<InstanceLock> {
  const everyMs = o.checkEveryMs ?? 1000;
  const retakeEveryMs = o.retakeEveryMs ?? Math.min(250, everyMs);
  const answerWithinMs = o.answerWithinMs ?? 5000;
  let state: State = { kind: "lost", reason: "the instance lock is not taken yet" };
  /** Between checks; woken when the lock is lost (taken again at once) or closed. */
  const between = napper();
  /** The connection of a try in progress (closing ends it rather than wait for its connect timeout). */
  let trying: pg.Client | undefined;

  /** Marks the lock lost if `client` is the one holding it; drops the connection. */
  function lose(client: pg.Client, reason: string): void {
    if (state.kind !== "held" || state.client !== client) return;
    state = { kind: "lost", reason: `lost the instance lock: ${reason}` };
    o.log("warn", "lost the instance lock; claiming and starting nothing until it is held again", { reason });
    void drop(client);
    between.wake();
  }

  async function attempt(): Promise<Attempt> {
    const client = new pg.Client({
      connectionString: o.databaseUrl,
      application_name: `runhooks-delivery-lock-${o.instanceId}`,
      // Besides the checks, the OS probes the connection too.
      keepAlive: true,
      connectionTimeoutMillis: answerWithinMs,
    });
    client.on("error", (error: Error) => lose(client, String(error)));
    client.on("end", () => lose(client, "its connection ended"));
    trying = client;
    try {
      await client.connect();
      const { rows } = await client.query<{ locked: boolean; pid: number }>(tryInstanceLockQuery(o.instanceId));
      if (rows[0]?.locked === true) return { kind: "held", client, pid: rows[0].pid };
      void drop(client);
      return { kind: "taken" };
    } catch (error) {
      void drop(client);
      return { kind: "failed", error: String(error) };
    } finally {
      trying = undefined;
    }
  }

  /** Asks the holding session whether it still holds the lock; no answer in time counts as no. */
  async function check(held: Extract<State, { kind: "held" }>): Promise<void> {
    const answer = held.client.query<{ held: boolean }>(holdsInstanceLockQuery(o.instanceId)).then(
      (r) => (r.rows[0]?.held === true ? "held" : "not held"),
      (error: unknown) => `the check failed: ${String(error)}`,
    );
    let timer: NodeJS.Timeout | undefined;
    // The verdict waits one more turn (setImmediate): after a stall the timer fires before the socket
    // is read, and an answer waiting there must count.
    const late = new Promise<string>((resolve) => {
      timer = setTimeout(() => setImmediate(() => resolve(`no answer within ${answerWithinMs} ms`)), answerWithinMs);
    });
    const verdict = await Promise.race([answer, late]);
    clearTimeout(timer);
    if (verdict !== "held") lose(held.client, verdict === "not held" ? "its session no longer holds it" : verdict);
  }

  async function retake(): Promise<void> {
    const got = await attempt();
    if (got.kind !== "held") {
      o.log("debug", "the instance lock is not held yet; retrying", {
        why: got.kind === "taken" ? "another session holds it" : got.error,
      });
      return;
    }
    if (state.kind === "closed") {
      await drop(got.client);
      return;
    }
    state = got;
    o.log("info", "holds the instance lock again");
    o.onHeld?.();
  }

  /** Checks the held lock every period; takes a lost one again, at once and then every retake period. */
  async function watch(): Promise<void> {
    while (state.kind !== "closed") {
      const now = state;
      if (now.kind === "held") await check(now);
      else await retake();
      await between.nap(state.kind === "held" ? everyMs : retakeEveryMs);
    }
  }

  // 1. The first hold: wait for it as long as it takes, or until aborted.
  let warned = false;
  for (;;) {
    o.signal?.throwIfAborted();
    const got = await attempt();
    if (got.kind === "held") {
      state = got;
      break;
    }
    const message =
      got.kind === "taken"
        ? "another session holds this instance's lock (a process with the same instance id, or its previous process not yet gone); waiting"
        : "could not take the instance lock; retrying";
    o.log(warned ? "debug" : "warn", message, {
      instanceId: o.instanceId,
      ...(got.kind === "failed" ? { error: got.error } : {}),
    });
    warned = true;
    await sleep(everyMs, o.signal);
  }
  if (o.signal?.aborted) {
    await drop(state.client);
    o.signal.throwIfAborted();
  }
  // 2. Checked (or taken again) from now on.
  const watching = between.nap(everyMs).then(watch);

  return {
    held: () => state.kind === "held",
    problem: () =>
      state.kind === "held" ? undefined : state.kind === "closed" ? "the instance lock was released" : state.reason,
    backendPid: () => (state.kind === "held" ? state.pid : undefined),
    async close() {
      const last = state;
      state = { kind: "closed" };
      between.wake();
      // Ending the connections ends a check or a try in progress (one waiting on a dead server too).
      const dropped = Promise.all([
        last.kind === "held" ? drop(last.client) : undefined,
        trying ? drop(trying) : undefined,
      ]);
      await watching;
      await dropped;
    },
  };
}

/** Ends a connection, waiting at most END_WITHIN_MS for it: a connection to a dead server may never answer. */
async function drop(client: pg.Client): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const given = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, END_WITHIN_MS);
    timer.unref();
  });
  await Promise.race([client.end().catch(() => undefined), given]);
  clearTimeout(timer);
}
