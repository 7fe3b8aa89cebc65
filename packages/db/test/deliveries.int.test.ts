import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  claimDeliveries,
  migrate,
  publishStragglers,
  reapExpiredLeases,
  recordAttempts,
  renewLeases,
  sql,
  storeWindows,
  windowPayloads,
  type FinishedAttempt,
  type NewDelivery,
  type NewWindow,
} from "@runhooks/db";
import { createTestDatabase, type TestDatabase } from "../../../test/support/stack.js";

let database: TestDatabase;
const tenantId = randomUUID();
const ruleId = randomUUID();

beforeAll(async () => {
  database = await createTestDatabase("deliveries");
  await migrate(database.db);
});
afterAll(async () => {
  await database.drop();
});

/** `count` pending deliveries to `origin`, one window each, due `agoMs` ago. */
async function pending(origin: string, count: number, agoMs: number, tenant = tenantId): Promise<string[]> {
  return stored(origin, count, agoMs, false, 60_000, tenant);
}

/** One window of `tenant`'s rule, one run, its webhook body `{}`. */
function newWindow(windowId: string, tenant = tenantId): NewWindow {
  return {
    windowId,
    tenantId: tenant,
    ruleId,
    ruleVersion: 1,
    startTime: "2026-01-01T00:00:00Z",
    endTime: "2026-01-01T00:00:05Z",
    runCount: 1,
    chunkIndex: 0,
    chunkCount: 1,
    webhookCount: 1,
    payload: Buffer.from("{}"),
  };
}

/** A delivery of window `windowId` to `origin`, to a new webhook unless one is given. */
function newDelivery(
  windowId: string,
  o: { origin: string; url?: string; claimed: boolean; webhookId?: string; tenant?: string },
): NewDelivery {
  return {
    id: randomUUID(),
    windowId,
    webhookId: o.webhookId ?? randomUUID(),
    tenantId: o.tenant ?? tenantId,
    ruleId,
    ruleVersion: 1,
    url: o.url ?? `${o.origin}/hook`,
    origin: o.origin,
    traceId: "0".repeat(32),
    claimed: o.claimed,
  };
}

async function stored(
  origin: string,
  count: number,
  agoMs: number,
  claimed: boolean,
  leaseMs = 60_000,
  tenant = tenantId,
): Promise<string[]> {
  const windows: NewWindow[] = [];
  const deliveries: NewDelivery[] = [];
  for (let i = 0; i < count; i++) {
    const windowId = randomUUID();
    windows.push(newWindow(windowId, tenant));
    deliveries.push(newDelivery(windowId, { origin, claimed, tenant }));
  }
  await storeWindows(database.db, windows, deliveries, { leaseMs, claimedBy: "test" });
  const ids = deliveries.map((d) => d.id);
  if (claimed) return ids;
  await database.db.query(sql`
    UPDATE deliveries SET next_attempt_at = now() - ${agoMs} * interval '1 millisecond' WHERE id = ANY(${ids}::uuid[])`);
  return ids;
}

const claim = (limit: number, originRoom = new Map<string, number>(), afterOrigin?: string) =>
  claimDeliveries(database.db, {
    limit,
    leaseMs: 60_000,
    claimedBy: "test",
    originRoom,
    defaultRoom: 256,
    afterOrigin,
  });

async function reset(): Promise<void> {
  await database.db.query(sql`DELETE FROM deliveries`);
}

describe("storeWindows", () => {
  it("stores a body's UTF-8 bytes as its text, multi-byte characters and all, and reads it back with its chunk", async () => {
    const windowId = randomUUID();
    const body = '{"runs":[{"text":"é ✓ 🙂 \\u0000 \\"q\\""}]}';
    const window = {
      windowId,
      tenantId,
      ruleId,
      ruleVersion: 1,
      startTime: "2026-01-01T00:00:00Z",
      endTime: "2026-01-01T00:00:05Z",
      runCount: 1,
    };
    await storeWindows(
      database.db,
      [{ ...window, chunkIndex: 2, chunkCount: 3, webhookCount: 1, payload: Buffer.from(body) }],
      [],
    );
    expect((await windowPayloads(database.db, [windowId])).get(windowId)).toEqual({
      payload: body,
      chunkIndex: 2,
      chunkCount: 3,
    });
    const [row] = (await database.db.query(
      sql`SELECT octet_length(payload) AS bytes, length(payload) AS chars FROM delivery_windows WHERE window_id = ${windowId}`,
    )) as { bytes: number; chars: number }[];
    expect(row).toEqual({ bytes: Buffer.byteLength(body), chars: body.length - 1 }); // 🙂 is one character, two UTF-16 units
  });
});

describe("storeWindows on a replay", () => {
  it("says which deliveries existed already and counts only the new ones", async () => {
    const window = (windowId: string) => newWindow(windowId);
    const delivery = (windowId: string) =>
      newDelivery(windowId, { origin: "http://a.test:80", url: "http://a.test/hook", claimed: true });
    const [a, b] = [randomUUID(), randomUUID()];
    const first = [delivery(a), delivery(a)];
    const stored = await storeWindows(database.db, [window(a)], first);
    expect(stored).toEqual({ windowsStored: 1, deliveriesCreated: 2, skipped: 0, existing: [] });
    const later = delivery(b);
    const again = await storeWindows(database.db, [window(a), window(b)], [...first, later]);
    expect(again.windowsStored).toBe(1);
    expect(again.deliveriesCreated).toBe(1);
    expect([...again.existing].sort()).toEqual(first.map((d) => d.id).sort());
  });
});

describe("storeWindows for a disabled webhook", () => {
  it("stores its delivery skipped and unclaimed even when the caller reserved it claimed", async () => {
    // The caller's webhook cache has not seen the disabling yet: it sends the delivery claimed.
    const windowId = randomUUID();
    const webhookId = randomUUID();
    await database.db.query(sql`
      INSERT INTO webhook_health (rule_id, webhook_id, tenant_id, state, consecutive_failures, disabled_at)
      VALUES (${ruleId}, ${webhookId}, ${tenantId}, 'disabled', 3, now())`);
    const delivery = newDelivery(windowId, {
      origin: "http://disabled.test:80",
      url: "http://disabled.test/hook",
      claimed: true,
      webhookId,
    });
    const stored = await storeWindows(database.db, [newWindow(windowId)], [delivery], {
      leaseMs: 60_000,
      claimedBy: "test",
    });
    // Reported as not created claimed, so the caller gives its reservation back and sends nothing.
    expect(stored).toEqual({ windowsStored: 1, deliveriesCreated: 1, skipped: 1, existing: [delivery.id] });
    const [row] = (await database.db.query(sql`
      SELECT status, attempts, claimed_by, lease_until, next_attempt_at, last_outcome
      FROM deliveries WHERE id = ${delivery.id}`)) as Record<string, unknown>[];
    expect(row).toEqual({
      status: "skipped",
      attempts: 0,
      claimed_by: null,
      lease_until: null,
      next_attempt_at: null,
      last_outcome: "webhook_disabled",
    });
  });
});

describe("claimDeliveries", () => {
  it("is fair across origins: a big backlog of one origin does not keep another's single delivery waiting", async () => {
    await reset();
    const backlog = await pending("http://backlog.test:80", 300, 60_000);
    const [single] = await pending("http://single.test:80", 1, 0);

    const { claimed } = await claim(20);
    // The newest due delivery of all goes out in the first claim; the backlog gets its equal share
    // (ceil(20 / 2)).
    expect(claimed.map((d) => d.id)).toContain(single);
    const fromBacklog = claimed.filter((d) => d.origin === "http://backlog.test:80").map((d) => d.id);
    expect(fromBacklog).toHaveLength(10);
    expect(fromBacklog.every((id) => backlog.includes(id))).toBe(true);
    // With the single one gone, the next claim is the backlog's alone.
    expect((await claim(20)).claimed.filter((d) => d.origin === "http://backlog.test:80")).toHaveLength(20);
  });

  it("takes origins round robin, within each origin's room; a full origin is left out", async () => {
    await reset();
    await pending("http://a.test:80", 10, 3000);
    await pending("http://b.test:80", 10, 2000);
    await pending("http://c.test:80", 10, 1000);
    await pending("http://full.test:80", 10, 5000);

    const room = new Map([
      ["http://a.test:80", 1],
      ["http://full.test:80", 0],
    ]);
    const { claimed } = await claim(7, room);
    const byOrigin = (origin: string) => claimed.filter((d) => d.origin === origin).length;
    expect(byOrigin("http://full.test:80")).toBe(0);
    expect(byOrigin("http://a.test:80")).toBe(1);
    // b and c share what is left: ceil(7 / 3) each at most.
    expect(byOrigin("http://b.test:80")).toBe(3);
    expect(byOrigin("http://c.test:80")).toBe(3);
    const states = (await database.db.query(sql`
      SELECT status, count(*)::int AS n FROM deliveries WHERE claimed_by = 'test' GROUP BY status`)) as {
      status: string;
      n: number;
    }[];
    expect(states).toEqual([{ status: "in_flight", n: 7 }]);
  });

  it("goes on after the last origin when one claim cannot look at them all", async () => {
    await reset();
    await pending("http://o1.test:80", 1, 0);
    await pending("http://o2.test:80", 1, 0);
    await pending("http://o3.test:80", 1, 0);

    const first = await claim(2);
    expect(first.originsCapped).toBe(true);
    expect(first.claimed.map((d) => d.origin).sort()).toEqual(["http://o1.test:80", "http://o2.test:80"]);
    const second = await claim(2, new Map(), first.lastOrigin);
    expect(second.originsCapped).toBe(false);
    expect(second.claimed.map((d) => d.origin)).toEqual(["http://o3.test:80"]);
    expect((await claim(2)).claimed).toEqual([]);
  });
});

describe("claimDeliveries between tenants", () => {
  it("takes each tenant within its room; a tenant with no room is left out", async () => {
    await reset();
    const [big, small, full] = [randomUUID(), randomUUID(), randomUUID()];
    // One tenant's backlog over 5 origins, another's single origin, and one at its hold cap.
    for (let i = 0; i < 5; i++) await pending(`http://big${i}.test:80`, 20, 5000, big);
    await pending("http://small.test:80", 20, 0, small);
    await pending("http://full.test:80", 5, 9000, full);
    const { claimed } = await claimDeliveries(database.db, {
      limit: 12,
      leaseMs: 60_000,
      claimedBy: "test",
      originRoom: new Map(),
      defaultRoom: 256,
      tenantRoom: new Map([
        [big, 3],
        [full, 0],
      ]),
      defaultTenantRoom: 4,
    });
    const byTenant = (t: string) => claimed.filter((d) => d.tenantId === t).length;
    expect(byTenant(full)).toBe(0);
    // The big tenant's 5 origins could fill the claim; its room is 3.
    expect(byTenant(big)).toBe(3);
    // The small one: its origin's equal share of the claim (ceil(12 / 7 due origins)), within its room of 4.
    expect(byTenant(small)).toBe(2);
  });
});

describe("renewLeases", () => {
  it("keeps a held delivery's claim past its lease; never renews one reaped or claimed by another", async () => {
    await reset();
    const [held, other, movedOn] = await stored("http://renew.test:80", 3, 0, true, 300);
    await database.db.query(sql`UPDATE deliveries SET claimed_by = 'someone else' WHERE id = ${other!}`);
    const renewed = await renewLeases(
      database.db,
      [
        { id: held!, attempt: 1 },
        { id: other!, attempt: 1 },
        { id: movedOn!, attempt: 2 }, // not its attempt any more
      ],
      { claimedBy: "test", leaseMs: 60_000 },
    );
    expect(renewed).toBe(1);
    await new Promise((r) => setTimeout(r, 400));
    // The two not renewed expired and are reaped; the renewed one stays in flight.
    expect(await reapExpiredLeases(database.db, 1000)).toBe(2);
    const rows = (await database.db.query(sql`SELECT id, status FROM deliveries ORDER BY id`)) as {
      id: string;
      status: string;
    }[];
    expect(rows.find((r) => r.id === held)!.status).toBe("in_flight");
    expect(rows.filter((r) => r.status === "pending")).toHaveLength(2);
  });
});

describe("recordAttempts after the lease expired", () => {
  const success = (deliveryId: string, attempt: number, published = false): FinishedAttempt => ({
    deliveryId,
    attempt,
    trigger: "scheduled",
    startedAt: new Date(),
    durationMs: 12,
    outcome: "success",
    statusCode: 200,
    error: null,
    responseExcerpt: "ok",
    url: "http://late.test:80/hook",
    nextStatus: "succeeded",
    nextAttemptAt: null,
    published,
  });
  const delivery = async (id: string) =>
    (
      (await database.db.query(sql`SELECT status, attempts, round_attempts FROM deliveries WHERE id = ${id}`)) as {
        status: string;
        attempts: number;
        round_attempts: number;
      }[]
    )[0];
  const attempts = async (id: string) =>
    (await database.db.query(sql`
      SELECT attempt, outcome, published_at FROM delivery_attempts WHERE delivery_id = ${id} ORDER BY attempt`)) as {
      attempt: number;
      outcome: string;
      published_at: Date | null;
    }[];
  const reapAll = async () => {
    await new Promise((r) => setTimeout(r, 20));
    return reapExpiredLeases(database.db, 1000);
  };

  it("records the late attempt and settles the delivery when it was reaped but not claimed again", async () => {
    await reset();
    const [id] = await stored("http://late.test:80", 1, 0, true, 1);
    expect(await reapAll()).toBe(1);
    expect(await attempts(id!)).toMatchObject([{ attempt: 1, outcome: "interrupted" }]);
    expect(await delivery(id!)).toEqual({ status: "pending", attempts: 1, round_attempts: 0 });

    const [recorded] = await recordAttempts(database.db, [success(id!, 1)]);
    expect(recorded).toMatchObject({ deliveryId: id, attempt: 1, applied: true });
    // Settled: not sent again. The attempt counts in its round again, and is to be published.
    expect(await delivery(id!)).toEqual({ status: "succeeded", attempts: 1, round_attempts: 1 });
    expect(await attempts(id!)).toEqual([{ attempt: 1, outcome: "success", published_at: null }]);
    // The same attempt recorded twice (a retried statement) applies nothing more.
    expect(await recordAttempts(database.db, [success(id!, 1)])).toEqual([]);
    expect(await delivery(id!)).toEqual({ status: "succeeded", attempts: 1, round_attempts: 1 });
  });

  it("an attempt the worker records as interrupted gives its round count back and keeps its trigger", async () => {
    await reset();
    const [id] = await stored("http://late.test:80", 1, 0, true);
    await database.db.query(sql`UPDATE deliveries SET attempt_trigger = 'manual' WHERE id = ${id!}`);
    const [recorded] = await recordAttempts(database.db, [
      {
        ...success(id!, 1),
        outcome: "interrupted",
        statusCode: null,
        error: "interrupted: a stall",
        responseExcerpt: null,
        nextStatus: "pending",
        nextAttemptAt: new Date(),
      },
    ]);
    expect(recorded).toMatchObject({ applied: true });
    expect(await delivery(id!)).toEqual({ status: "pending", attempts: 1, round_attempts: 0 });
    const triggers = (await database.db.query(sql`SELECT next_trigger FROM deliveries WHERE id = ${id!}`)) as {
      next_trigger: string;
    }[];
    expect(triggers).toEqual([{ next_trigger: "manual" }]);
  });

  it("records the late attempt but leaves the delivery to a newer attempt already claimed", async () => {
    await reset();
    const [id] = await stored("http://late.test:80", 1, 0, true, 1);
    expect(await reapAll()).toBe(1);
    const { claimed } = await claim(10);
    expect(claimed.map((d) => [d.id, d.attempt])).toEqual([[id, 2]]);

    // Published before it was recorded (the recorder's order): the row is written marked published.
    const [recorded] = await recordAttempts(database.db, [success(id!, 1, true)]);
    expect(recorded).toMatchObject({ attempt: 1, applied: false });
    expect(await delivery(id!)).toMatchObject({ status: "in_flight", attempts: 2 });
    expect((await attempts(id!)).map((a) => [a.attempt, a.outcome, a.published_at !== null])).toEqual([
      [1, "success", true],
    ]);
  });
});

describe("attempts recorded unpublished (Kafka failed)", () => {
  it("are published by the sweeper, once, and attempts recorded published are not", async () => {
    await reset();
    const [published, unpublished] = await stored("http://sweep.test:80", 2, 0, true);
    const attempt = (deliveryId: string, isPublished: boolean): FinishedAttempt => ({
      deliveryId,
      attempt: 1,
      trigger: "scheduled",
      startedAt: new Date(),
      durationMs: 3,
      outcome: "http_5xx",
      statusCode: 503,
      error: null,
      responseExcerpt: null,
      url: "http://sweep.test:80/hook",
      nextStatus: "pending",
      nextAttemptAt: new Date(Date.now() + 60_000),
      published: isPublished,
    });
    await recordAttempts(database.db, [attempt(published!, true), attempt(unpublished!, false)]);
    const sent: string[][] = [];
    const sweep = () =>
      publishStragglers(database.db, 0, 100, (rows) => {
        sent.push(rows.map((r) => `${r.deliveryId}/${r.attempt}/${r.outcome}`));
        return Promise.resolve();
      });
    expect(await sweep()).toBe(1);
    expect(sent).toEqual([[`${unpublished}/1/http_5xx`]]);
    // Marked once the publish resolved: the next sweep has nothing to send.
    expect(await sweep()).toBe(0);
    expect(sent).toHaveLength(1);
  });
});
