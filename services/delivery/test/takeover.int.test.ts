import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import {
  INSTANCE_LOCK_NAMESPACE,
  connectDatabase,
  sql,
  storeWindows,
  type Database,
  type NewDelivery,
  type NewWindow,
} from "@runhooks/db";
import { deliveryId } from "../src/delivery-id.js";
import { createDeliveryHarness, eventually, type DeliveryHarness } from "./harness.js";
import { reply, startReceiver, type Receiver } from "./receiver.js";

/** Log messages of the harness' services. */
const messages = (h: DeliveryHarness) => h.logs.map((l) => (JSON.parse(l) as { message: string }).message);

describe("takeover by instance liveness", () => {
  const harnesses: DeliveryHarness[] = [];
  const receivers: Receiver[] = [];
  afterAll(async () => {
    for (const h of harnesses) await h.close();
    for (const r of receivers) await r.close();
  });
  const setUp = async (label: string) => {
    const h = await createDeliveryHarness(label);
    harnesses.push(h);
    const receiver = await startReceiver(reply(200, "ok"));
    receivers.push(receiver);
    return { h, receiver };
  };

  it("sends a dead instance's claims at once, long before their lease ends", async () => {
    const { h, receiver } = await setUp("takeover");
    const rule = await h.createRule([{ url: `${receiver.url}/hook` }]);
    // Five deliveries claimed by an instance that holds no lock (its process is gone), under a lease
    // of ten minutes: only liveness can give them back within the test.
    const windows: NewWindow[] = [];
    const deliveries: NewDelivery[] = [];
    for (let i = 0; i < 5; i++) {
      const windowId = randomUUID();
      windows.push({
        windowId,
        chunkIndex: 0,
        chunkCount: 1,
        tenantId: h.tenantId,
        ruleId: rule.ruleId,
        ruleVersion: rule.version,
        startTime: new Date(Date.now() - 5000).toISOString(),
        endTime: new Date().toISOString(),
        runCount: 0,
        webhookCount: 1,
        payload: Buffer.from(`{"window":${i}}`),
      });
      deliveries.push({
        id: deliveryId(windowId, rule.webhookIds[0]!),
        windowId,
        webhookId: rule.webhookIds[0]!,
        tenantId: h.tenantId,
        ruleId: rule.ruleId,
        ruleVersion: rule.version,
        url: `${receiver.url}/hook`,
        origin: new URL(receiver.url).origin,
        traceId: "0".repeat(32),
        claimed: true,
      });
    }
    await storeWindows(h.db, windows, deliveries, { leaseMs: 600_000, claimedBy: "gone-instance" });

    await h.start({ leaseMs: 600_000 });
    await eventually(
      "every delivery to succeed",
      async () => (await h.deliveries()).every((d) => d.status === "succeeded"),
      30_000,
    );
    expect(new Set(receiver.received.map((r) => r.id))).toEqual(new Set(deliveries.map((d) => d.id)));
    const attempts = await h.attempts();
    for (const d of deliveries) {
      expect(attempts.filter((a) => a.delivery_id === d.id).map((a) => [a.attempt, a.outcome])).toEqual([
        [1, "interrupted"],
        [2, "success"],
      ]);
    }
    expect(messages(h)).toContain("deliveries of delivery processes that are gone are queued again");
  }, 120_000);

  it("a process that lost its lock claims and starts nothing until it holds it again", async () => {
    const { h, receiver } = await setUp("lockloss");
    const rule = await h.createRule([{ url: `${receiver.url}/hook` }]);
    const service = await h.start({ http: { host: "127.0.0.1", port: 0 } });
    const health = async () => {
      const res = await fetch(`${service.url!}/healthz`);
      return { status: res.status, body: await res.text() };
    };
    await eventually("the service to be healthy", async () => (await health()).status === 200);
    const instanceLock = sql`${INSTANCE_LOCK_NAMESPACE}::int, hashtext(${"test-0"})`;
    // Locks of this test's database only: another test's instance may be called test-0 too.
    const thisDatabase = sql`database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
    const [{ pid }] = (await h.db.query(sql`
      SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = ${INSTANCE_LOCK_NAMESPACE}::int::oid
        AND objid = (hashtext(${"test-0"})::bigint & 4294967295)::oid AND objsubid = 2 AND ${thisDatabase}`)) as [
      { pid: number },
    ];

    // The test's session queues for the instance's lock, and gets it once the instance's session is
    // terminated: the instance cannot take it back.
    const test: Database = connectDatabase({ url: h.database.url, poolSize: 1 });
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let taken!: () => void;
    const isTaken = new Promise<void>((r) => (taken = r));
    const holding = test.task(async (conn) => {
      await conn.query(sql`SELECT pg_advisory_lock(${instanceLock})`);
      taken();
      await released;
      await conn.query(sql`SELECT pg_advisory_unlock_all()`);
    });
    await eventually("the test's session to wait for the lock", async () => {
      const [row] = (await h.db.query(sql`
        SELECT count(*)::int AS n FROM pg_locks
        WHERE locktype = 'advisory' AND NOT granted AND classid = ${INSTANCE_LOCK_NAMESPACE}::int::oid AND ${thisDatabase}`)) as {
        n: number;
      }[];
      return row!.n === 1;
    });
    await h.db.query(sql`SELECT pg_terminate_backend(${pid})`);
    await isTaken;
    await eventually("the loss to be noticed", () =>
      messages(h).includes("lost the instance lock; claiming and starting nothing until it is held again"),
    );

    try {
      const windows = await h.publishWindows(rule, 10, 1);
      await eventually("the windows to be stored", () => h.windowsConsumed());
      // Claims are looked for every 50 ms, the lock tried every second: two tries after the windows
      // were stored leave the workers many chances to claim, had they been allowed to.
      const tries = () => messages(h).filter((m) => m === "the instance lock is not held yet; retrying").length;
      const before = tries();
      await eventually("two more tries to take the lock", () => tries() >= before + 2, 10_000);
      const rows = await h.deliveries();
      expect(rows).toHaveLength(windows.length);
      expect(rows.every((d) => d.status === "pending" && d.attempts === 0)).toBe(true);
      expect(receiver.received).toEqual([]);
      expect(await health()).toEqual({
        status: 503,
        body: expect.stringContaining("lost the instance lock") as unknown,
      });
    } finally {
      release();
      await holding;
      await test.dispose();
    }

    await eventually(
      "every delivery to succeed",
      async () => (await h.deliveries()).every((d) => d.status === "succeeded"),
      30_000,
    );
    expect(receiver.received).toHaveLength(10);
    expect(messages(h)).toContain("holds the instance lock again");
    await eventually("the service to be healthy again", async () => (await health()).status === 200);
  }, 120_000);
});
