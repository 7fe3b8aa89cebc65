import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { sql } from "@runhooks/db";
import { createDeliveryHarness, eventually, makeRun, type DeliveryHarness } from "./harness.js";
import { reply, startReceiver, type Receiver } from "./receiver.js";

describe("reading windows", () => {
  let h: DeliveryHarness | undefined;
  let receiver: Receiver | undefined;
  afterAll(async () => {
    await h?.close();
    await receiver?.close();
  });

  it("stores each window once: a replayed window, an unknown rule version, no webhooks, a bad message", async () => {
    h = await createDeliveryHarness("ingest");
    receiver = await startReceiver(reply(200));
    const rule = await h.createRule([{ url: `${receiver.url}/a` }, { url: `${receiver.url}/b` }]);
    const silent = await h.createRule([]);
    const service = await h.start({ http: { host: "127.0.0.1", port: 0 } });

    const [w] = await h.publishWindows(rule, 1);
    await eventually("both deliveries of the window", async () => (await h!.deliveries()).filter((d) => d.status === "succeeded").length === 2);
    // The same window again (a re-emission after an evaluator crash): nothing new.
    await h.publishRaw([{ key: w!.rule_id, value: JSON.stringify(w) }]);
    // A window of a rule version that does not exist, one of a rule without webhooks, and garbage.
    const unknown = { ...w!, window_id: randomUUID(), rule_version: 99 };
    const [quiet] = await h.publishWindows(silent, 1);
    await h.publishRaw([
      { key: w!.rule_id, value: JSON.stringify(unknown) },
      { key: w!.rule_id, value: "{not json" },
      { key: w!.rule_id, value: JSON.stringify({ ...w!, runs: [{ ...makeRun(h.tenantId), id: "not-a-uuid" }] }) },
    ]);
    await eventually("every message read", () => service.counters.windowsRead >= 6);
    // Everything the messages lead to has happened once their offsets are committed (a window's
    // deliveries are stored before) and no delivery is left to send.
    await eventually("every message handled", () => h!.windowsConsumed());
    await eventually("no delivery left to send", async () => (await h!.deliveries()).every((d) => d.status === "succeeded"));

    expect(receiver.received).toHaveLength(2);
    expect(new Set(receiver.received.map((r) => r.url))).toEqual(new Set(["/a", "/b"]));
    expect(await h.deliveries()).toHaveLength(2);
    const windows = (await h.db.query(sql`SELECT window_id, webhook_count, payload IS NULL AS no_payload FROM delivery_windows`)) as {
      window_id: string;
      webhook_count: number;
      no_payload: boolean;
    }[];
    const byId = new Map(windows.map((r) => [r.window_id, r]));
    expect(windows).toHaveLength(3);
    expect(byId.get(w!.window_id)).toMatchObject({ webhook_count: 2, no_payload: false });
    expect(byId.get(unknown.window_id)).toMatchObject({ webhook_count: 0, no_payload: true });
    expect(byId.get(quiet!.window_id)).toMatchObject({ webhook_count: 0, no_payload: true });
    expect(service.counters).toMatchObject({
      windowsRead: 6,
      windowsStored: 3,
      windowsDuplicate: 1,
      windowsInvalid: 2,
      windowsWithoutWebhooks: { unknown_rule_version: 1, no_webhooks: 1 },
      deliveriesCreated: 2,
    });
    // Health and metrics say so too.
    expect((await fetch(`${service.url!}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${service.url!}/metrics`)).text();
    expect(metrics).toMatch(/^runhooks_delivery_attempts_total\{outcome="success"\} 2$/m);
    expect(metrics).toMatch(/^runhooks_delivery_deliveries_total\{status="succeeded"\} 2$/m);
    expect(metrics).toMatch(/^runhooks_delivery_windows_invalid_total 2$/m);
    expect(metrics).toMatch(/^runhooks_delivery_windows_without_webhooks_total\{reason="unknown_rule_version"\} 1$/m);
    expect(metrics).toMatch(/^runhooks_delivery_attempts_in_flight 0$/m);
    // The offsets moved past everything, garbage included: nothing is read again on restart.
    const admin = h.kafka.admin();
    await admin.connect();
    try {
      const committed = (await admin.fetchOffsets({ groupId: `${h.prefix}-delivery`, topics: [h.topics.windows] })).flatMap((t) => t.partitions);
      const ends = await admin.fetchTopicOffsets(h.topics.windows);
      const used = ends.filter((e) => e.high !== "0");
      expect(used.length).toBeGreaterThan(0);
      for (const e of used) expect(committed.find((c) => c.partition === e.partition)?.offset).toBe(e.high);
    } finally {
      await admin.disconnect();
    }
  });

  it("sends a window that arrives twice in one batch once", async () => {
    const local = await createDeliveryHarness("twice");
    const twiceReceiver = await startReceiver(reply(200));
    try {
      const rule = await local.createRule([{ url: `${twiceReceiver.url}/a` }, { url: `${twiceReceiver.url}/b` }]);
      // Published before the service starts, in one send: the copies reach it in the same batch.
      const [w] = await local.publishWindows(rule, 1);
      await local.publishRaw([{ key: w!.rule_id, value: JSON.stringify(w) }]);
      const service = await local.start();
      await eventually("both copies read", () => service.counters.windowsRead >= 2);
      await eventually("both deliveries done", async () => (await local.deliveries()).filter((d) => d.status === "succeeded").length === 2);
      // Both copies handled (offsets committed after their deliveries were stored), nothing left to send.
      await eventually("both copies handled", () => local.windowsConsumed());
      await eventually("no delivery left to send", async () => (await local.deliveries()).every((d) => d.status === "succeeded"));
      expect(twiceReceiver.received.map((r) => r.url).sort()).toEqual(["/a", "/b"]);
    } finally {
      await local.close();
      await twiceReceiver.close();
    }
  });
});
