import pg from "pg";
import { sql, type Database } from "@runhooks/db";

/** Arbitrary constant (the migrations use …211): at most one outbox relay holds it. */
export const RELAY_LOCK_KEY = 7_301_994_212;

export interface LockConnection {
  /** Resolves when a commit wrote to the outbox, or after `timeoutMs`; whichever is first. */
  waitForNotification(timeoutMs: number): Promise<void>;
  /** Ends a pending `waitForNotification` now (on stop); the lock is kept. */
  interrupt(): void;
  /** Undefined while the connection (and so the lock) is alive; otherwise why it was lost. */
  lost(): Error | undefined;
  close(): Promise<void>;
}

/**
 * A dedicated connection that holds the relay's session advisory lock and LISTENs for outbox commits.
 * The lock lives exactly as long as the connection: a relay that dies releases it, and the next one in
 * line (blocked in `pg_advisory_lock`) takes over. `abort` ends the wait for the lock: the server does
 * not notice a client that hangs up while it waits on a lock, so the wait is cancelled through `db`.
 */
export async function acquireRelayLock(
  databaseUrl: string,
  db: Database,
  channel: string,
  abort: AbortSignal,
  lockKey: number = RELAY_LOCK_KEY,
): Promise<LockConnection> {
  // Keep-alive: a silently dead connection (and so a lost lock) is noticed, not waited on forever.
  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: "runhooks-outbox-relay",
    keepAlive: true,
  });
  let lostError: Error | undefined;
  let wake: (() => void) | undefined;
  let pendingNotification = false;
  client.on("error", (error: Error) => {
    lostError ??= error;
    wake?.();
  });
  client.on("end", () => {
    lostError ??= new Error("the relay's database connection ended");
    wake?.();
  });
  client.on("notification", () => {
    pendingNotification = true;
    wake?.();
  });
  let backendPid: number | undefined;
  const onAbort = () => {
    const cancel =
      backendPid === undefined ? Promise.resolve() : db.query(sql`SELECT pg_cancel_backend(${backendPid})`);
    void cancel.catch(() => undefined).then(() => client.end().catch(() => undefined));
  };
  abort.addEventListener("abort", onAbort, { once: true });
  try {
    await client.connect();
    const pid = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    backendPid = pid.rows[0]?.pid;
    if (abort.aborted) throw new Error("aborted");
    await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
    // Blocks while another relay holds the lock.
    await client.query("SELECT pg_advisory_lock($1)", [lockKey]);
  } catch (error) {
    abort.removeEventListener("abort", onAbort);
    await client.end().catch(() => undefined);
    throw error;
  }
  abort.removeEventListener("abort", onAbort);

  return {
    waitForNotification(timeoutMs) {
      if (pendingNotification || lostError) {
        pendingNotification = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        function done() {
          clearTimeout(timer);
          wake = undefined;
          pendingNotification = false;
          resolve();
        }
        wake = done;
      });
    },
    interrupt: () => wake?.(),
    lost: () => lostError,
    async close() {
      lostError ??= new Error("closed");
      wake?.();
      await client.end().catch(() => undefined);
    },
  };
}
