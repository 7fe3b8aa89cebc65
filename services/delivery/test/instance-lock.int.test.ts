import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INSTANCE_LOCK_NAMESPACE, connectDatabase, sql, type Database } from "@runhooks/db";
import { acquireInstanceLock, type InstanceLock } from "../src/instance-lock.js";
import { createTestDatabase, type TestDatabase } from "../../../test/support/stack.js";
import { eventually } from "./harness.js";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase("instancelock");
});
afterAll(async () => {
  await database.drop();
});

/** Log lines of the locks a test takes, as `level message`. */
function recorder() {
  const lines: string[] = [];
  const log = (level: string, message: string): void => {
    lines.push(`${level} ${message}`);
  };
  return { lines, log };
}
const count = (lines: readonly string[], prefix: string) => lines.filter((l) => l.startsWith(prefix)).length;

/** The sessions of this database holding (granted) an instance's lock. */
async function holders(instanceId: string): Promise<number[]> {
  const rows = (await database.db.query(sql`
    SELECT pid FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND classid = ${INSTANCE_LOCK_NAMESPACE}::int::oid AND objsubid = 2
      AND objid = (hashtext(${instanceId})::bigint & 4294967295)::oid
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)) as { pid: number }[];
  return rows.map((r) => r.pid);
}

/** Takes an instance's lock on a connection of the test's own, waiting for it; released by the function returned. */
function holdAsTest(url: string, instanceId: string): { taken: Promise<void>; release: () => Promise<void> } {
  const pool: Database = connectDatabase({ url, poolSize: 1 });
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let taken!: () => void;
  const isTaken = new Promise<void>((r) => (taken = r));
  const task = pool.task(async (conn) => {
    await conn.query(sql`SELECT pg_advisory_lock(${INSTANCE_LOCK_NAMESPACE}::int, hashtext(${instanceId}))`);
    taken();
    await released;
    await conn.query(sql`SELECT pg_advisory_unlock_all()`);
  });
  return {
    taken: Promise.race([isTaken, task]),
    release: async () => {
      release();
      await task;
      await pool.dispose();
    },
  };
}

describe("instance lock", () => {
  const open: InstanceLock[] = [];
  afterAll(async () => {
    for (const lock of open) await lock.close();
  });
  const take = async (
    instanceId: string,
    log = recorder().log,
    more: Partial<Parameters<typeof acquireInstanceLock>[0]> = {},
  ) => {
    const lock = await acquireInstanceLock({ databaseUrl: database.url, instanceId, log, checkEveryMs: 100, ...more });
    open.push(lock);
    return lock;
  };

  it("is held on a session of its own; a second process with the same id waits until the first releases it", async () => {
    const first = await take("same");
    expect(first.held()).toBe(true);
    expect(first.problem()).toBeUndefined();
    expect(await holders("same")).toEqual([first.backendPid()]);

    const second = recorder();
    let secondLock: InstanceLock | undefined;
    const waiting = take("same", second.log).then((l) => (secondLock = l));
    await eventually(
      "the second to be waiting",
      () => count(second.lines, "warn another session holds this instance's lock") === 1,
    );
    await eventually(
      "the second to retry",
      () => count(second.lines, "debug another session holds this instance's lock") >= 2,
    );
    expect(secondLock).toBeUndefined();
    expect(first.held()).toBe(true);

    await first.close();
    expect(first.held()).toBe(false);
    expect(first.problem()).toBe("the instance lock was released");
    await waiting;
    expect(secondLock!.held()).toBe(true);
    expect(await holders("same")).toEqual([secondLock!.backendPid()]);
    await secondLock!.close();
    await first.close(); // twice: nothing happens
    await eventually("the lock to be free", async () => (await holders("same")).length === 0);
  });

  it("stops waiting when aborted", async () => {
    const first = await take("aborted");
    const abort = new AbortController();
    const second = recorder();
    const waiting = take("aborted", second.log, { signal: abort.signal });
    await eventually("the second to be waiting", () => count(second.lines, "warn another session holds") === 1);
    abort.abort(new Error("stop now"));
    await expect(waiting).rejects.toThrow("stop now");
    expect(first.held()).toBe(true);
    expect(await holders("aborted")).toEqual([first.backendPid()]);
  });

  it("is lost the moment its backend is terminated, and taken again on a new session", async () => {
    const logged = recorder();
    let regained = 0;
    // What the lock said when its loss was logged (it is taken again at once after).
    const atLoss: { held: boolean; problem: string | undefined }[] = [];
    const log = (level: string, message: string) => {
      logged.log(level, message);
      if (message.startsWith("lost the instance lock")) atLoss.push({ held: lock.held(), problem: lock.problem() });
    };
    const lock: InstanceLock = await take("terminated", log, { onHeld: () => regained++ });
    const pid = lock.backendPid()!;
    await database.db.query(sql`SELECT pg_terminate_backend(${pid})`);
    await eventually("the loss to be noticed", () => count(logged.lines, "warn lost the instance lock") === 1);
    expect(atLoss).toEqual([{ held: false, problem: expect.stringMatching(/^lost the instance lock: /) as unknown }]);
    await eventually("the lock to be taken again", () => regained === 1);
    expect(lock.held()).toBe(true);
    expect(lock.backendPid()).not.toBe(pid);
    expect(await holders("terminated")).toEqual([lock.backendPid()]);
    expect(count(logged.lines, "info holds the instance lock again")).toBe(1);
  });

  it("stays lost while another session took the lock in between, and is held again once that one lets go", async () => {
    const logged = recorder();
    let regained = 0;
    const lock = await take("contended", logged.log, { onHeld: () => regained++ });
    // The test's session queues for the lock, and gets it when the instance's backend is terminated.
    const test = holdAsTest(database.url, "contended");
    await eventually("the test's session to wait for the lock", async () => {
      const [row] = (await database.db.query(sql`
        SELECT count(*)::int AS n FROM pg_locks
        WHERE locktype = 'advisory' AND NOT granted AND classid = ${INSTANCE_LOCK_NAMESPACE}::int::oid
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)) as {
        n: number;
      }[];
      return row!.n === 1;
    });
    await database.db.query(sql`SELECT pg_terminate_backend(${lock.backendPid()!})`);
    await test.taken;
    await eventually("the loss to be noticed", () => count(logged.lines, "warn lost the instance lock") === 1);
    const retriesBefore = count(logged.lines, "debug the instance lock is not held yet");
    await eventually(
      "two tries to take it again",
      () => count(logged.lines, "debug the instance lock is not held yet") >= retriesBefore + 2,
    );
    expect(lock.held()).toBe(false);
    expect(regained).toBe(0);

    await test.release();
    await eventually("the lock to be taken again", () => regained === 1);
    expect(lock.held()).toBe(true);
    expect(await holders("contended")).toEqual([lock.backendPid()]);
  });

  it("counts a connection that stops answering as lost, and never holds the lock twice", async () => {
    const proxy = await startProxy(new URL(database.url));
    try {
      const logged = recorder();
      let regained = 0;
      const lock = await take("silent", logged.log, {
        databaseUrl: proxy.url,
        answerWithinMs: 300,
        onHeld: () => regained++,
      });
      const pid = lock.backendPid()!;
      // The network goes silent: nothing is lost on the server, the session keeps the lock.
      proxy.freeze();
      await eventually("the loss to be noticed", () => count(logged.lines, "warn lost the instance lock") === 1);
      expect(logged.lines.find((l) => l.startsWith("warn lost"))).toBeDefined();
      expect(lock.held()).toBe(false);
      expect(await holders("silent")).toEqual([pid]);
      // Once the network is back, the dropped connection ends its session and the lock is taken anew.
      proxy.thaw();
      await eventually("the lock to be taken again", () => regained === 1);
      expect(lock.held()).toBe(true);
      expect(lock.backendPid()).not.toBe(pid);
      expect(await holders("silent")).toEqual([lock.backendPid()]);
    } finally {
      await proxy.close();
    }
  });
});

/** A TCP proxy to Postgres that can go silent (forward nothing either way) and come back. */
async function startProxy(target: URL): Promise<{ url: string; freeze(): void; thaw(): void; close(): Promise<void> }> {
  const pairs = new Set<[Socket, Socket]>();
  let frozen = false;
  const server: Server = createServer((downstream) => {
    const upstream = connect(Number(target.port), target.hostname);
    const pair: [Socket, Socket] = [downstream, upstream];
    pairs.add(pair);
    downstream.pipe(upstream);
    upstream.pipe(downstream);
    if (frozen) for (const s of pair) s.pause();
    const end = () => {
      pairs.delete(pair);
      downstream.destroy();
      upstream.destroy();
    };
    downstream.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = new URL(target);
  url.hostname = "127.0.0.1";
  url.port = String((server.address() as AddressInfo).port);
  return {
    url: url.toString(),
    freeze() {
      frozen = true;
      for (const pair of pairs) for (const s of pair) s.pause();
    },
    thaw() {
      frozen = false;
      for (const pair of pairs) for (const s of pair) s.resume();
    },
    async close() {
      for (const pair of pairs) for (const s of pair) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
