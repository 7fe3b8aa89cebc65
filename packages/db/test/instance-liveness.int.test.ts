import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  INSTANCE_LOCK_NAMESPACE,
  claimantsSnapshot,
  connectDatabase,
  migrate,
  reapDeadInstanceClaims,
  sql,
  storeWindows,
  type Database,
  type NewDelivery,
  type NewWindow,
  type SQLQuery,
} from "@runhooks/db";
import { createTestDatabase, type TestDatabase } from "../../../test/support/stack.js";

let database: TestDatabase;
let other: TestDatabase;
/** Instance ids whose `hashtext` is negative (an unsigned objid in pg_locks) and positive. */
let negative: string;
let positive: string;

beforeAll(async () => {
  database = await createTestDatabase("liveness");
  other = await createTestDatabase("liveness_other");
  await migrate(database.db);
  const hashes = (await database.db.query(sql`
    SELECT id, hashtext(id) AS h FROM (SELECT 'instance-' || n AS id FROM generate_series(0, 63) n) ids`)) as {
    id: string;
    h: number;
  }[];
  negative = hashes.find((r) => r.h < 0)!.id;
  positive = hashes.find((r) => r.h > 0)!.id;
});
afterAll(async () => {
  await database.drop();
  await other.drop();
});

/**
 * Holds a lock on a connection of its own (`take` runs on it) until the returned function is called,
 * as a delivery process holds its instance lock.
 */
async function holdOn(url: string, take: SQLQuery): Promise<() => Promise<void>> {
  const pool: Database = connectDatabase({ url, poolSize: 1 });
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let taken!: () => void;
  const isTaken = new Promise<void>((r) => (taken = r));
  const task = pool.task(async (conn) => {
    await conn.query(take);
    taken();
    await released;
    // Released before the connection closes: a closed session's locks go a moment later, not at once.
    await conn.query(sql`SELECT pg_advisory_unlock_all()`);
  });
  await Promise.race([isTaken, task]);
  return async () => {
    release();
    await task;
    await pool.dispose();
  };
}
const instanceLock = (instanceId: string) =>
  sql`SELECT pg_advisory_lock(${INSTANCE_LOCK_NAMESPACE}::int, hashtext(${instanceId}))`;

/** `count` deliveries in flight claimed by `instanceId`, under a lease of `leaseMs`. */
async function claimedBy(instanceId: string, count: number, leaseMs = 60_000): Promise<string[]> {
  const windows: NewWindow[] = [];
  const deliveries: NewDelivery[] = [];
  for (let i = 0; i < count; i++) {
    const windowId = randomUUID();
    windows.push({
      windowId,
      chunkIndex: 0,
      chunkCount: 1,
      tenantId: randomUUID(),
      ruleId: randomUUID(),
      ruleVersion: 1,
      startTime: "2026-01-01T00:00:00Z",
      endTime: "2026-01-01T00:00:05Z",
      runCount: 1,
      webhookCount: 1,
      payload: Buffer.from("{}"),
    });
    deliveries.push({
      id: randomUUID(),
      windowId,
      webhookId: randomUUID(),
      tenantId: windows[i]!.tenantId,
      ruleId: windows[i]!.ruleId,
      ruleVersion: 1,
      url: "http://liveness.test:80/hook",
      origin: "http://liveness.test:80",
      traceId: "0".repeat(32),
      claimed: true,
    });
  }
  await storeWindows(database.db, windows, deliveries, { leaseMs, claimedBy: instanceId });
  return deliveries.map((d) => d.id);
}

async function reset(): Promise<void> {
  await database.db.query(sql`DELETE FROM delivery_attempts`);
  await database.db.query(sql`DELETE FROM deliveries`);
}

const aliveOf = async (): Promise<Record<string, boolean>> =>
  Object.fromEntries((await claimantsSnapshot(database.db)).claimants.map((c) => [c.instanceId ?? "", c.alive]));

describe("claimantsSnapshot", () => {
  it("lists each instance with claims in flight, its earliest lease, and whether its lock is held", async () => {
    await reset();
    await claimedBy(negative, 2, 30_000);
    await claimedBy(negative, 1, 5_000);
    await claimedBy(positive, 1);
    await claimedBy("gone", 3);
    const releaseNegative = await holdOn(database.url, instanceLock(negative));
    const releasePositive = await holdOn(database.url, instanceLock(positive));
    try {
      const snapshot = await claimantsSnapshot(database.db);
      const byId = new Map(snapshot.claimants.map((c) => [c.instanceId, c]));
      expect(byId.get(negative)).toMatchObject({ claims: 3, alive: true });
      expect(byId.get(positive)).toMatchObject({ claims: 1, alive: true });
      expect(byId.get("gone")).toMatchObject({ claims: 3, alive: false });
      // The earliest lease is the 5 s one, judged by the database's clock.
      const lease = byId.get(negative)!.earliestLeaseUntil.getTime() - snapshot.now.getTime();
      expect(lease).toBeGreaterThan(3_000);
      expect(lease).toBeLessThanOrEqual(5_000);
    } finally {
      await releaseNegative();
      await releasePositive();
    }
    // Released (as by a process that died): both are dead now.
    expect(await aliveOf()).toEqual({ [negative]: false, [positive]: false, gone: false });
  });

  it("counts only the two-int instance lock of this database: not another database's, not the one-bigint form", async () => {
    await reset();
    await claimedBy(negative, 1);
    await claimedBy(positive, 1);
    const elsewhere = await holdOn(other.url, instanceLock(negative));
    // The same 64 bits as the instance lock of `positive`, taken as one bigint key (objsubid 1).
    const oneKey = await holdOn(
      database.url,
      sql`SELECT pg_advisory_lock((${INSTANCE_LOCK_NAMESPACE}::bigint << 32) | (hashtext(${positive})::bigint & 4294967295))`,
    );
    try {
      expect(await aliveOf()).toEqual({ [negative]: false, [positive]: false });
    } finally {
      await elsewhere();
      await oneKey();
    }
  });

  it("says when nothing is in flight, with the database's clock", async () => {
    await reset();
    const snapshot = await claimantsSnapshot(database.db);
    expect(snapshot.claimants).toEqual([]);
    expect(Math.abs(snapshot.now.getTime() - Date.now())).toBeLessThan(60_000);
  });
});

describe("reapDeadInstanceClaims", () => {
  it("requeues the claims of instances whose lock is free, records their attempt interrupted, and leaves the rest", async () => {
    await reset();
    const dead = await claimedBy("dead", 3);
    const live = await claimedBy(positive, 2);
    const release = await holdOn(database.url, instanceLock(positive));
    try {
      // `positive` is passed as dead too: it holds its lock when the statement runs, so it keeps its claims.
      expect(await reapDeadInstanceClaims(database.db, ["dead", positive], 2)).toBe(2);
      expect(await reapDeadInstanceClaims(database.db, ["dead", positive], 2)).toBe(1);
      expect(await reapDeadInstanceClaims(database.db, ["dead", positive], 2)).toBe(0);
      expect(await reapDeadInstanceClaims(database.db, [], 2)).toBe(0);
    } finally {
      await release();
    }
    const rows = (await database.db.query(sql`
      SELECT id, status, claimed_by, lease_until, attempts, round_attempts FROM deliveries`)) as {
      id: string;
      status: string;
      claimed_by: string | null;
      lease_until: Date | null;
      attempts: number;
      round_attempts: number;
    }[];
    for (const id of dead) {
      expect(rows.find((r) => r.id === id)).toMatchObject({
        status: "pending",
        claimed_by: null,
        lease_until: null,
        attempts: 1,
        round_attempts: 0,
      });
    }
    for (const id of live)
      expect(rows.find((r) => r.id === id)).toMatchObject({ status: "in_flight", claimed_by: positive });
    const attempts = (await database.db.query(
      sql`SELECT delivery_id, attempt, outcome FROM delivery_attempts ORDER BY delivery_id`,
    )) as {
      delivery_id: string;
      attempt: number;
      outcome: string;
    }[];
    expect(attempts.map((a) => a.delivery_id).sort()).toEqual([...dead].sort());
    expect(attempts.every((a) => a.attempt === 1 && a.outcome === "interrupted")).toBe(true);
  });
});
