import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { OperationalEvent, Rule } from "@runhooks/contracts";
import { enableWebhook, recoverDeliveries, saveRule } from "@runhooks/db";
import type { Consumer } from "kafkajs";
import { Webhook } from "standardwebhooks";
import { createDeliveryHarness, eventually, newSecret, type DeliveryHarness, type DeliveryRow } from "./harness.js";
import { reply, startReceiver, type Received, type Receiver } from "./receiver.js";

/**
 * What endpoint owners expect, against real receivers that misbehave on purpose: a retry schedule that
 * outlasts an outage, the default policy giving up as it says, a changed secret used by the next retry
 * of an old window, a failing endpoint disabled (event, nothing further sent), enabled and recovered.
 * Every wait is for a recorded fact (a row, an event, a request), never for time.
 */

let h: DeliveryHarness;
const receivers: Receiver[] = [];
const events: OperationalEvent[] = [];
let consumer: Consumer;
const SHORT = [0.2, 0.4, 0.8, 1, 1, 1, 1, 1, 1, 1];

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

async function rowsOf(windowIds: string[]): Promise<DeliveryRow[]> {
  return h.deliveries({ windowIds });
}

async function until(what: string, windowIds: string[], test: (rows: DeliveryRow[]) => boolean, ms = 40_000) {
  let rows: DeliveryRow[] = [];
  await eventually(
    what,
    async () => {
      rows = await rowsOf(windowIds);
      return rows.length === windowIds.length && test(rows);
    },
    ms,
  );
  return rows;
}

beforeAll(async () => {
  h = await createDeliveryHarness("endpoints");
  consumer = h.kafka.consumer({ groupId: `${h.prefix}-events-reader` });
  await consumer.connect();
  await consumer.subscribe({ topic: h.topics.events, fromBeginning: true });
  await consumer.run({
    eachMessage: ({ message }) => {
      events.push(OperationalEvent.parse(JSON.parse(message.value!.toString())));
      return Promise.resolve();
    },
  });
  // A small threshold for the test: 3 failed deliveries in a row, no minimum span.
  await h.start({ disableAfter: { failures: 3, minSpanMs: 0 } });
}, 60_000);

afterAll(async () => {
  await consumer?.disconnect();
  await h?.close();
  for (const r of receivers) await r.close();
});

describe("a receiver down, then back", () => {
  it("gets every window with a short schedule; with the default policy they fail as it says", async () => {
    let up = false;
    const scheduled = await receiver((r, n, res) => reply(up ? 200 : 503)(r, n, res));
    const seed = await receiver(reply(503, "deploying"));
    const scheduleRule = await h.createRule([{ url: `${scheduled.url}/hook`, retry: { schedule: SHORT } }]);
    const seedRule = await h.createRule([{ url: `${seed.url}/hook` }]);
    const windows = (await h.publishWindows(scheduleRule, 3)).map((w) => w.window_id);
    const seedWindows = (await h.publishWindows(seedRule, 2)).map((w) => w.window_id);

    // Down until each scheduled delivery has failed twice: then the receiver comes back.
    await until("two failed attempts of each window", windows, (rows) => rows.every((r) => r.attempts >= 2));
    up = true;
    const rows = await until("every window delivered", windows, (rows) => rows.every((r) => r.status === "succeeded"));
    expect(rows.every((r) => r.last_outcome === "success")).toBe(true);
    const delivered = new Set(scheduled.received.map((r) => r.id));
    for (const r of rows) expect(delivered.has(r.id)).toBe(true);

    // The default policy: 3 attempts (1 s, 2 s apart), then failed, and a delivery.exhausted event each.
    const seedRows = await until("the default policy to give up", seedWindows, (rows) =>
      rows.every((r) => r.status === "failed"),
    );
    for (const r of seedRows) expect(r.attempts).toBe(3);
    await eventually("delivery.exhausted for each", () =>
      seedRows.every((r) => events.some((e) => e.type === "delivery.exhausted" && e.delivery_id === r.id)),
    );
    const exhausted = events.find((e) => e.type === "delivery.exhausted" && e.delivery_id === seedRows[0]!.id);
    expect(exhausted).toMatchObject({ reason: "retries_exhausted", last_outcome: "http_5xx", attempts: 3 });
  }, 90_000);
});

describe("a changed secret", () => {
  it("is used by the next retry of an old window", async () => {
    const oldSecret = newSecret();
    const newer = newSecret();
    const signedWith = (r: Received, secret: string) => {
      try {
        new Webhook(secret).verify(r.body, {
          "webhook-id": r.id,
          "webhook-timestamp": r.timestamp,
          "webhook-signature": String(r.headers["webhook-signature"]),
        });
        return true;
      } catch {
        return false;
      }
    };
    // Accepts only the new secret's signature; asks to come back later (429, retried) otherwise.
    const target = await receiver((r, n, res) => reply(signedWith(r, newer) ? 200 : 429)(r, n, res));
    const retry = { schedule: SHORT };
    const rule = await h.createRule([{ url: `${target.url}/hook`, signing_secret: oldSecret, retry }]);
    const [w] = await h.publishWindows(rule, 1);
    await eventually("the first attempt", () => target.received.length >= 1);
    expect(signedWith(target.received[0]!, oldSecret)).toBe(true);

    const saved = await saveRule(h.db, {
      tenantId: h.tenantId,
      mode: "update",
      rule: Rule.parse({
        id: rule.ruleId,
        tenant_id: h.tenantId,
        display_name: "endpoints rule",
        filter: { "==": [{ var: "status" }, "error"] },
        webhooks: [{ id: rule.webhookIds[0], url: `${target.url}/hook`, signing_secret: newer, retry }],
      }),
    });
    expect(saved.ok).toBe(true);
    const [row] = await until("the old window delivered", [w!.window_id], (rows) => rows[0]!.status === "succeeded");
    const last = target.received.at(-1)!;
    expect(last.id).toBe(row!.id);
    expect(signedWith(last, newer)).toBe(true);
  }, 60_000);
});

describe("an endpoint failing past the threshold", () => {
  it("is disabled, emits the event, receives nothing further; enabled, recover sends what it missed", async () => {
    let fixed = false;
    const target = await receiver((r, n, res) => reply(fixed ? 200 : 404)(r, n, res));
    const rule = await h.createRule([{ url: `${target.url}/hook` }]);
    const webhookId = rule.webhookIds[0]!;
    const since = new Date(Date.now() - 60_000);
    // 404 is final: each window is one failed delivery. Three in a row disable the webhook.
    const failed: string[] = [];
    for (let i = 0; i < 3; i++) {
      const [w] = await h.publishWindows(rule, 1);
      failed.push(w!.window_id);
      await until(`window ${i} failed`, [w!.window_id], (rows) => rows[0]!.status === "failed");
    }
    await eventually("webhook.disabled", () =>
      events.some((e) => e.type === "webhook.disabled" && e.webhook_id === webhookId),
    );
    const disabled = events.find((e) => e.type === "webhook.disabled" && e.webhook_id === webhookId)!;
    expect(disabled).toMatchObject({ rule_id: rule.ruleId, consecutive_failures: 3, last_success_at: null });
    expect(target.received).toHaveLength(3);

    // Disabled: windows are kept as skipped deliveries, and nothing is sent.
    const missed = (await h.publishWindows(rule, 2)).map((w) => w.window_id);
    const skipped = await until("skipped deliveries", missed, (rows) => rows.every((r) => r.status === "skipped"));
    expect(skipped.every((r) => r.last_outcome === "webhook_disabled" && r.attempts === 0)).toBe(true);
    expect(target.received).toHaveLength(3);

    // Enabled again, fixed, recovered: every failed and skipped window is sent.
    fixed = true;
    expect(await enableWebhook(h.db, h.tenantId, rule.ruleId, webhookId)).toBe("disabled");
    const recovered = await recoverDeliveries(h.db, h.tenantId, { since, ruleId: rule.ruleId, limit: 3 });
    expect(recovered).toEqual({ queued: 3, more: true });
    expect(await recoverDeliveries(h.db, h.tenantId, { since, ruleId: rule.ruleId })).toEqual({
      queued: 2,
      more: false,
    });
    const all = [...failed, ...missed];
    const rows = await until("every missed window delivered", all, (rows) =>
      rows.every((r) => r.status === "succeeded"),
    );
    const got = new Set(target.received.filter((r) => r.headers["runhooks-attempt"] !== undefined).map((r) => r.id));
    for (const r of rows) expect(got.has(r.id)).toBe(true);
  }, 90_000);

  it("cancels the pending deliveries of a webhook removed from its rule", async () => {
    const target = await receiver(reply(503));
    const rule = await h.createRule([{ url: `${target.url}/hook`, retry: { schedule: [0.3, 0.3, 0.3, 0.3, 30] } }]);
    const [w] = await h.publishWindows(rule, 1);
    await eventually("the first attempt", () => target.received.length >= 1);
    await saveRule(h.db, {
      tenantId: h.tenantId,
      mode: "update",
      rule: Rule.parse({
        id: rule.ruleId,
        tenant_id: h.tenantId,
        display_name: "endpoints rule",
        filter: { "==": [{ var: "status" }, "error"] },
        webhooks: [{ url: `http://127.0.0.1:1/elsewhere/${randomUUID()}` }],
      }),
    });
    const [row] = await until("the delivery cancelled", [w!.window_id], (rows) => rows[0]!.status === "cancelled");
    expect(row!.last_outcome).toBe("webhook_removed");
  }, 60_000);
});
