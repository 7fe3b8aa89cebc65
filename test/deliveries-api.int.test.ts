import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "@runhooks/api";
import { createApiKey, createTenant, sql } from "@runhooks/db";
import type { Delivery } from "@runhooks/delivery";
import { createDeliveryHarness, eventually, type DeliveryHarness } from "../services/delivery/test/harness.js";
import { startReceiver, type Receiver } from "../services/delivery/test/receiver.js";

/**
 * The API's deliveries routes over what a running delivery service stored: listing, one delivery with
 * its attempts, a redelivery and a replay the service then carries out.
 */

interface DeliveryJson {
  id: string;
  window_id: string;
  rule_id: string;
  status: string;
  attempts: number;
  url: string;
  last_outcome: string | null;
  attempt_history?: { attempt: number; trigger: string; outcome: string; status_code: number | null }[];
}

let h: DeliveryHarness;
let app: FastifyInstance;
let receiver: Receiver;
let service: Delivery;
let status = 404;
let otherTenant: string;
let ruleId: string;
let windowIds: string[];
let windowStarts: string[];
/** Each tenant's API key. */
const keys = new Map<string, string>();

async function addKey(tenantId: string): Promise<void> {
  const created = await createApiKey(h.db, tenantId, "deliveries");
  if (!created) throw new Error("api key");
  keys.set(tenantId, created.key);
}

beforeAll(async () => {
  h = await createDeliveryHarness("api");
  receiver = await startReceiver((_r, _n, res) => void res.writeHead(status).end());
  const rule = await h.createRule([{ url: `${receiver.url}/hook?secret=api-test-secret` }]);
  ruleId = rule.ruleId;
  const other = await createTenant(h.db, { name: "other" });
  if (!other.ok) throw new Error("tenant");
  otherTenant = other.tenant.id;
  await addKey(h.tenantId);
  await addKey(otherTenant);
  app = buildApp({ db: h.db });
  service = await h.start();
  const windows = await h.publishWindows(rule, 3);
  windowIds = windows.map((w) => w.window_id);
  windowStarts = windows.map((w) => w.start_time).sort();
  await eventually("three failed deliveries", async () => {
    const rows = await h.deliveries();
    return rows.length === 3 && rows.every((r) => r.status === "failed");
  });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await h?.close();
  await receiver?.close();
});

/** null: no API key at all. */
const as = (tenant: string | null) => (tenant === null ? {} : { "x-api-key": keys.get(tenant)! });
async function get<T>(url: string, tenant: string | null = h.tenantId): Promise<{ status: number; body: T }> {
  const res = await app.inject({ method: "GET", url, headers: as(tenant) });
  return { status: res.statusCode, body: res.json<T>() };
}
async function post<T>(
  url: string,
  payload?: unknown,
  tenant: string | null = h.tenantId,
): Promise<{ status: number; body: T }> {
  const res = await app.inject({
    method: "POST",
    url,
    headers: as(tenant),
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  return { status: res.statusCode, body: res.json<T>() };
}

describe("the deliveries API", () => {
  it("lists a tenant's deliveries, filtered by rule, status and time", async () => {
    const all = await get<{ deliveries: DeliveryJson[] }>("/deliveries");
    expect(all.status).toBe(200);
    expect(all.body.deliveries).toHaveLength(3);
    expect(new Set(all.body.deliveries.map((d) => d.window_id))).toEqual(new Set(windowIds));
    expect(all.body.deliveries.every((d) => d.url.endsWith("/hook?secret=***"))).toBe(true);
    expect(
      (await get<{ deliveries: DeliveryJson[] }>(`/deliveries?rule_id=${ruleId}&status=failed`)).body.deliveries,
    ).toHaveLength(3);
    expect((await get<{ deliveries: DeliveryJson[] }>("/deliveries?status=succeeded")).body.deliveries).toHaveLength(0);
    expect(
      (await get<{ deliveries: DeliveryJson[] }>(`/deliveries?rule_id=${randomUUID()}`)).body.deliveries,
    ).toHaveLength(0);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await get<{ deliveries: DeliveryJson[] }>(`/deliveries?since=${future}`)).body.deliveries).toHaveLength(0);
    expect((await get<{ deliveries: DeliveryJson[] }>("/deliveries?limit=2")).body.deliveries).toHaveLength(2);
  });

  it("shows one delivery with its attempts", async () => {
    const [d] = await h.deliveries();
    const one = await get<DeliveryJson>(`/deliveries/${d!.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: d!.id, status: "failed", attempts: 1, last_outcome: "http_4xx" });
    expect(one.body.attempt_history).toEqual([
      expect.objectContaining({ attempt: 1, trigger: "scheduled", outcome: "http_4xx", status_code: 404 }),
    ]);
  });

  it("answers 401 without a key, 404 for another tenant's delivery, 400 for a bad id or query", async () => {
    const [d] = await h.deliveries();
    expect((await get(`/deliveries/${d!.id}`, null)).status).toBe(401);
    expect((await get("/deliveries", null)).status).toBe(401);
    expect((await get(`/deliveries/${d!.id}`, otherTenant)).status).toBe(404);
    expect((await get<{ deliveries: unknown[] }>("/deliveries", otherTenant)).body.deliveries).toHaveLength(0);
    expect((await post(`/deliveries/${d!.id}/redeliver`, undefined, otherTenant)).status).toBe(404);
    expect((await get("/deliveries/not-a-uuid")).status).toBe(400);
    const bad = await get<{ error: string; issues: { path: string }[] }>("/deliveries?status=lost");
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i) => i.path)).toEqual(["status"]);
  });

  it("shows each webhook's health, enables one, and validates recoveries", async () => {
    interface Listed {
      webhooks: { id: string; url: string; health: { state: string; consecutive_failures: number } }[];
    }
    let listed: Listed | undefined;
    await eventually("three failures in a row on the webhook's health", async () => {
      const res = await get<Listed>(`/rules/${ruleId}/webhooks`);
      listed = res.body;
      return res.status === 200 && res.body.webhooks[0]?.health.consecutive_failures === 3;
    });
    const [webhook] = listed!.webhooks;
    expect(webhook!.url).toBe(`${receiver.url}/hook?secret=***`);
    expect(webhook!.health.state).toBe("failing");
    expect((await get(`/rules/${ruleId}/webhooks`, otherTenant)).status).toBe(404);
    expect((await get(`/rules/${ruleId}/webhooks`, null)).status).toBe(401);

    const enabled = await post<{ was: string; state: string }>(`/rules/${ruleId}/webhooks/${webhook!.id}/enable`);
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ was: "failing", state: "healthy" });
    expect((await post(`/rules/${ruleId}/webhooks/${randomUUID()}/enable`)).status).toBe(404);
    expect((await post(`/rules/${ruleId}/webhooks/${webhook!.id}/enable`, undefined, otherTenant)).status).toBe(404);

    expect((await post("/deliveries/recover", {})).status).toBe(400);
    const backwards = await post<{ issues: { path: string }[] }>("/deliveries/recover", {
      since: "2024-04-05T02:00:00Z",
      until: "2024-04-05T01:00:00Z",
    });
    expect(backwards.status).toBe(400);
    expect(backwards.body.issues[0]!.path).toBe("until");
    expect((await post("/deliveries/recover", { since: "2024-04-05T00:00:00Z", limit: 1001 })).status).toBe(400);
    // Another tenant's recovery queues nothing of this one's; a range before every delivery neither.
    const since = new Date(Date.now() - 3_600_000).toISOString();
    expect((await post("/deliveries/recover", { since }, otherTenant)).body).toEqual({
      queued: 0,
      more: false,
      max_per_call: 1000,
    });
    const early = await post("/deliveries/recover", { since, until: new Date(Date.now() - 3_500_000).toISOString() });
    expect(early).toEqual({ status: 202, body: { queued: 0, more: false, max_per_call: 1000 } });
    expect((await h.deliveries()).every((r) => r.status === "failed")).toBe(true);
  });

  it("sends a signed sample window to a webhook now and answers with the attempt", async () => {
    const [webhookId] = (await h.deliveries()).map((d) => d.webhook_id);
    const before = receiver.received.length;
    const sent = await post<{ delivery_id: string; outcome: string; status_code: number; url: string }>(
      `/rules/${ruleId}/webhooks/${webhookId}/test`,
    );
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ outcome: "http_4xx", status_code: 404, url: `${receiver.url}/hook?secret=***` });
    const got = receiver.received.slice(before);
    expect(got).toHaveLength(1);
    expect(got[0]!.id).toBe(sent.body.delivery_id);
    const body = JSON.parse(got[0]!.body.toString()) as { rule_id: string; runs: { name: string }[] };
    expect(body).toMatchObject({ rule_id: ruleId, runs: [{ name: "runhooks test send" }] });
    expect((await post(`/rules/${ruleId}/webhooks/${randomUUID()}/test`)).status).toBe(404);
    // Its failed delivery ends cancelled: recovering the webhook's failures never sends the sample again.
    const [testDelivery] = (await h.db.query(
      sql`SELECT status, last_outcome FROM deliveries WHERE id = ${sent.body.delivery_id}`,
    )) as { status: string; last_outcome: string }[];
    expect(testDelivery).toEqual({ status: "cancelled", last_outcome: "test_send" });
    // A disabled webhook is sent no test either: a 409 that says how to enable it, nothing queued.
    await h.db.query(
      sql`UPDATE webhook_health SET state = 'disabled', disabled_at = now() WHERE rule_id = ${ruleId} AND webhook_id = ${webhookId}`,
    );
    const refused = await post<{ error: string; message: string }>(`/rules/${ruleId}/webhooks/${webhookId}/test`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe("webhook_disabled");
    expect(refused.body.message).toMatch(/enable/);
    expect((await post(`/rules/${ruleId}/webhooks/${webhookId}/enable`)).status).toBe(200);
    expect(receiver.received.length).toBe(before + 1);
    // The test send is a delivery of its own, not one of the rule's windows: put the list back as it was.
    await h.db.query(sql`DELETE FROM deliveries WHERE id = ${sent.body.delivery_id}`);
  });

  it("redelivers a failed delivery: a manual attempt, same webhook-id", async () => {
    // The earliest window's: the replay below covers the two later ones.
    const [d] = await h.deliveries({ windowIds: [windowIds[0]!] });
    status = 200;
    const res = await post<DeliveryJson>(`/deliveries/${d!.id}/redeliver`);
    expect(res.status).toBe(202);
    expect(res.body.status).toBe("pending");
    await eventually(
      "the redelivery to succeed",
      async () => (await h.deliveries()).find((x) => x.id === d!.id)!.status === "succeeded",
    );
    const one = await get<DeliveryJson>(`/deliveries/${d!.id}`);
    expect(one.body.attempt_history!.map((a) => [a.attempt, a.trigger, a.outcome])).toEqual([
      [1, "scheduled", "http_4xx"],
      [2, "manual", "success"],
    ]);
    const got = receiver.received.filter((r) => r.id === d!.id);
    expect(got.map((r) => r.attempt)).toEqual([1, 2]);
  });

  it("replays a rule's windows of a time range", async () => {
    expect(
      (await post(`/rules/${randomUUID()}/replay`, { from: windowStarts[0], to: new Date().toISOString() })).status,
    ).toBe(404);
    const backwards = await post<{ issues: { path: string }[] }>(`/rules/${ruleId}/replay`, {
      from: new Date().toISOString(),
      to: windowStarts[0],
    });
    expect(backwards.status).toBe(400);
    expect(backwards.body.issues.map((i) => i.path)).toEqual(["to"]);
    const empty = await post<{ windows: number }>(`/rules/${ruleId}/replay`, {
      from: "2020-01-01T00:00:00Z",
      to: "2020-01-02T00:00:00Z",
    });
    expect(empty.body.windows).toBe(0);

    const before = receiver.received.length;
    // The two later windows only: [second start, far future).
    const res = await post<{ windows: number; queued: number; in_progress: number }>(`/rules/${ruleId}/replay`, {
      from: windowStarts[1],
      to: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ windows: 2, queued: 2, in_progress: 0 });
    await eventually("the replayed deliveries to succeed", async () => {
      const rows = await h.deliveries();
      return (
        rows.filter((r) => r.status === "succeeded").length === 3 &&
        rows.every((r) => r.status !== "pending" && r.status !== "in_flight")
      );
    });
    expect(receiver.received.length - before).toBe(2);
    const attempts = await h.attempts();
    expect(attempts.filter((a) => a.trigger === "manual")).toHaveLength(3);
  });

  it("refuses to redeliver a delivery that is still pending", async () => {
    await service.stop();
    const [d] = await h.deliveries();
    expect((await post(`/deliveries/${d!.id}/redeliver`)).status).toBe(202);
    const again = await post<{ error: string; delivery: DeliveryJson }>(`/deliveries/${d!.id}/redeliver`);
    expect(again.status).toBe(409);
    expect(again.body.error).toBe("in_progress");
    expect(again.body.delivery.status).toBe("pending");
  });

  it("refuses to redeliver a cancelled delivery, saying why", async () => {
    const d = (await h.deliveries()).find((x) => x.status === "succeeded")!;
    // What delivery stores when a delivery's webhook left the rule (DESIGN.md §5, current configuration).
    await h.db.query(
      sql`UPDATE deliveries SET status = 'cancelled', last_outcome = 'webhook_removed' WHERE id = ${d.id}`,
    );
    const attempts = (await h.attempts()).length;
    const res = await post<{ error: string; message: string; delivery: DeliveryJson }>(`/deliveries/${d.id}/redeliver`);
    expect(res.status).toBe(409);
    expect(res.body.error).toBe("cancelled");
    expect(res.body.message).toMatch(/no longer in the rule/);
    expect(res.body.delivery).toMatchObject({ id: d.id, status: "cancelled", last_outcome: "webhook_removed" });
    expect((await h.deliveries()).find((x) => x.id === d.id)!.status).toBe("cancelled");
    expect(await h.attempts()).toHaveLength(attempts);
  });
});
