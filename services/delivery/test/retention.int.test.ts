import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { migrate, redeliver, sql } from "@runhooks/db";
import { DEFAULT_RETENTION } from "../src/retention-policy.js";
import { runRetentionPass } from "../src/retention.js";
import { createTestDatabase, type TestDatabase } from "../../../test/support/stack.js";

const DAY = 86_400_000;
const now = new Date();
const ago = (days: number) => new Date(now.getTime() - days * DAY);

let database: TestDatabase;
const tenant = randomUUID();
const rule = randomUUID();

/** A window received `receivedDaysAgo`, with one delivery in `status` finished `completedDaysAgo`. */
async function seed(name: string, receivedDaysAgo: number, status: string, completedDaysAgo: number, published = true) {
  const windowId = randomUUID();
  const deliveryId = randomUUID();
  const db = database.db;
  await db.query(sql`
    INSERT INTO delivery_windows (window_id, tenant_id, rule_id, rule_version, start_time, end_time, run_count, webhook_count, payload, received_at)
    VALUES (${windowId}, ${tenant}, ${rule}, 1, ${ago(receivedDaysAgo)}, ${ago(receivedDaysAgo)}, 1, 1, ${`{"runs":["${name}"]}`}, ${ago(receivedDaysAgo)})`);
  const finished = status === "succeeded" || status === "failed";
  await db.query(sql`
    INSERT INTO deliveries (id, window_id, webhook_id, tenant_id, rule_id, rule_version, url, origin, trace_id, status, attempts,
      next_attempt_at, lease_until, completed_at, created_at)
    VALUES (${deliveryId}, ${windowId}, ${randomUUID()}, ${tenant}, ${rule}, 1, 'https://example.com/', 'https://example.com', ${name},
      ${status}, 1, ${status === "pending" ? ago(0) : null}, ${status === "in_flight" ? now : null},
      ${finished ? ago(completedDaysAgo) : null}, ${ago(receivedDaysAgo)})`);
  await db.query(sql`
    INSERT INTO delivery_attempts (delivery_id, attempt, trigger, started_at, duration_ms, outcome, url, published_at)
    VALUES (${deliveryId}, 1, 'scheduled', ${ago(completedDaysAgo)}, 5, 'success', 'https://example.com/', ${published ? ago(completedDaysAgo) : null})`);
  return { windowId, deliveryId };
}

async function state(ids: { windowId: string; deliveryId: string }) {
  const w = (await database.db.query(sql`SELECT payload FROM delivery_windows WHERE window_id = ${ids.windowId}`)) as {
    payload: string | null;
  }[];
  const d = (await database.db.query(sql`SELECT count(*)::int AS n FROM deliveries WHERE id = ${ids.deliveryId}`)) as {
    n: number;
  }[];
  const a = (await database.db.query(
    sql`SELECT count(*)::int AS n FROM delivery_attempts WHERE delivery_id = ${ids.deliveryId}`,
  )) as { n: number }[];
  return {
    window: w[0] === undefined ? "gone" : w[0].payload === null ? "no body" : "body",
    delivery: d[0]!.n,
    attempts: a[0]!.n,
  };
}

beforeAll(async () => {
  database = await createTestDatabase("retention");
  await migrate(database.db);
});
afterAll(async () => {
  await database.drop();
});

describe("retention of delivery data", () => {
  it("drops old bodies, then old records, in small batches, and never what is unfinished", async () => {
    const rows = {
      fresh: await seed("fresh", 1, "succeeded", 1),
      oldBody: await seed("old-body", 40, "succeeded", 40),
      oldRecord: await seed("old-record", 100, "failed", 95),
      oldPending: await seed("old-pending", 100, "pending", 0),
      oldInFlight: await seed("old-in-flight", 100, "in_flight", 0),
      unpublished: await seed("unpublished", 100, "succeeded", 95, false),
      recentlyRedelivered: await seed("redelivered", 100, "succeeded", 10),
    };
    // Batches of 2: the pass has to go round several times.
    const pass = await runRetentionPass(database.db, now, { ...DEFAULT_RETENTION, batchSize: 2 });
    expect(pass).toEqual({ bodies: 4, deliveries: 1, windows: 1 });
    expect(await state(rows.fresh)).toEqual({ window: "body", delivery: 1, attempts: 1 });
    expect(await state(rows.oldBody)).toEqual({ window: "no body", delivery: 1, attempts: 1 });
    expect(await state(rows.oldRecord)).toEqual({ window: "gone", delivery: 0, attempts: 0 });
    expect(await state(rows.oldPending)).toEqual({ window: "body", delivery: 1, attempts: 1 });
    expect(await state(rows.oldInFlight)).toEqual({ window: "body", delivery: 1, attempts: 1 });
    expect(await state(rows.unpublished)).toEqual({ window: "no body", delivery: 1, attempts: 1 });
    expect(await state(rows.recentlyRedelivered)).toEqual({ window: "no body", delivery: 1, attempts: 1 });
    // A finished delivery without its body cannot be sent again; one with its body can.
    expect(await redeliver(database.db, tenant, rows.oldBody.deliveryId)).toMatchObject({
      ok: false,
      reason: "body_expired",
    });
    expect(await redeliver(database.db, tenant, rows.fresh.deliveryId)).toMatchObject({ ok: true });
    // A second pass finds nothing more; 0 days keeps everything.
    expect(await runRetentionPass(database.db, now, DEFAULT_RETENTION)).toEqual({
      bodies: 0,
      deliveries: 0,
      windows: 0,
    });
    expect(
      await runRetentionPass(database.db, new Date(now.getTime() + 1000 * DAY), {
        ...DEFAULT_RETENTION,
        bodyDays: 0,
        recordDays: 0,
      }),
    ).toEqual({
      bodies: 0,
      deliveries: 0,
      windows: 0,
    });
  });
});
