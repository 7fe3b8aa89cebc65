import { afterAll, describe, expect, it } from "vitest";
import { sql } from "@runhooks/db";
import { mergedWindowId } from "@runhooks/rules";
import { createDeliveryHarness, eventually, makeRun, windowPart, type DeliveryHarness } from "./harness.js";
import { reply, startReceiver, type Receiver } from "./receiver.js";

/** Partitions of the harness' windows topic: every watermark reaches each. */
const WINDOWS_PARTITIONS = 3;

describe("reading windows", () => {
  let h: DeliveryHarness | undefined;
  let receiver: Receiver | undefined;
  afterAll(async () => {
    await h?.close();
    await receiver?.close();
  });

  it("stores each window once: a part read again, no webhooks; dead-letters an unknown rule version and bad messages", async () => {
    h = await createDeliveryHarness("ingest");
    receiver = await startReceiver(reply(200));
    const rule = await h.createRule([{ url: `${receiver.url}/a` }, { url: `${receiver.url}/b` }]);
    const silent = await h.createRule([]);
    const service = await h.start({ http: { host: "127.0.0.1", port: 0 } });

    const [w] = await h.publishWindows(rule, 1);
    await eventually(
      "both deliveries of the window",
      async () => (await h!.deliveries()).filter((d) => d.status === "succeeded").length === 2,
    );
    // The same part again (an evaluator refolding after a crash): its window is complete, nothing new.
    await h.publishParts([w!.part]);
    // A window of a rule version that does not exist, one of a rule without webhooks, and garbage.
    const range = h.nextRange();
    const unknown = windowPart({
      ruleId: rule.ruleId,
      version: 99,
      tenantId: h.tenantId,
      ...range,
      runs: [makeRun(h.tenantId)],
    });
    await h.publishParts([unknown]);
    const [quiet] = await h.publishWindows(silent, 1);
    await h.publishRaw([
      { key: rule.ruleId, value: "{not json" },
      { key: rule.ruleId, value: JSON.stringify({ ...w!.part, runs: [{ ...makeRun(h.tenantId), id: "not-a-uuid" }] }) },
      {
        key: "__watermark__/0",
        value: JSON.stringify({ schema_version: 1, runs_partition: 0 }),
        headers: { "runhooks-kind": "watermark" },
      },
    ]);
    await eventually(
      "every message read",
      () => service.counters.partsRead >= 4 && service.counters.windowsInvalid >= 3,
    );
    // Everything the messages lead to has happened once their offsets are committed (a window's
    // deliveries are stored before, and no open window holds the offsets back) and no delivery is left
    // to send.
    await eventually("every message handled", () => h!.windowsConsumed());
    await eventually("no delivery left to send", async () =>
      (await h!.deliveries()).every((d) => d.status === "succeeded"),
    );

    expect(receiver.received).toHaveLength(2);
    expect(new Set(receiver.received.map((r) => r.url))).toEqual(new Set(["/a", "/b"]));
    expect(await h.deliveries()).toHaveLength(2);
    const windows = (await h.db.query(
      sql`SELECT window_id, webhook_count, payload IS NULL AS no_payload, chunk_index, chunk_count FROM delivery_windows`,
    )) as {
      window_id: string;
      webhook_count: number;
      no_payload: boolean;
      chunk_index: number;
      chunk_count: number;
    }[];
    const byId = new Map(windows.map((r) => [r.window_id, r]));
    expect(windows).toHaveLength(2);
    expect(byId.get(w!.window_id)).toMatchObject({
      webhook_count: 2,
      no_payload: false,
      chunk_index: 0,
      chunk_count: 1,
    });
    // The part of a version the rule does not have never joined a window.
    expect(
      byId.get(mergedWindowId({ ruleId: rule.ruleId, ruleVersion: 99, startMs: range.startMs, chunk: 0 })),
    ).toBeUndefined();
    expect(byId.get(quiet!.window_id)).toMatchObject({ webhook_count: 0, no_payload: true });
    expect(service.counters).toMatchObject({
      partsRead: 4,
      partsDuplicate: { window_completed: 1 },
      watermarksRead: 2 * WINDOWS_PARTITIONS,
      windowsCompleted: 2,
      windowsStored: 2,
      windowsDuplicate: 0,
      windowsInvalid: 3,
      windowsDeadLettered: { invalid: 3, unknown_rule_version: 1 },
      windowsWithoutWebhooks: { no_webhooks: 1 },
      deliveriesCreated: 2,
    });
    // Health and metrics say so too.
    expect((await fetch(`${service.url!}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${service.url!}/metrics`)).text();
    expect(metrics).toMatch(/^runhooks_delivery_attempts_total\{outcome="success"\} 2$/m);
    expect(metrics).toMatch(/^runhooks_delivery_deliveries_total\{status="succeeded"\} 2$/m);
    expect(metrics).toMatch(/^runhooks_delivery_windows_invalid_total 3$/m);
    expect(metrics).toMatch(/^runhooks_delivery_parts_duplicate_total\{reason="window_completed"\} 1$/m);
    expect(metrics).toMatch(/^runhooks_delivery_windows_without_webhooks_total\{reason="no_webhooks"\} 1$/m);
    expect(metrics).toMatch(/^runhooks_delivery_windows_dead_lettered_total\{reason="unknown_rule_version"\} 1$/m);
    expect(metrics).toMatch(/^runhooks_delivery_attempts_in_flight 0$/m);
    // The offsets moved past everything, garbage included: nothing is read again on restart.
    const admin = h.kafka.admin();
    await admin.connect();
    try {
      const committed = (
        await admin.fetchOffsets({ groupId: `${h.prefix}-delivery`, topics: [h.topics.windows] })
      ).flatMap((t) => t.partitions);
      const ends = await admin.fetchTopicOffsets(h.topics.windows);
      const used = ends.filter((e) => e.high !== "0");
      expect(used.length).toBeGreaterThan(0);
      for (const e of used) expect(committed.find((c) => c.partition === e.partition)?.offset).toBe(e.high);
    } finally {
      await admin.disconnect();
    }
  });

  it("sends a window whose part arrives twice in one batch once", async () => {
    const local = await createDeliveryHarness("twice");
    const twiceReceiver = await startReceiver(reply(200));
    try {
      const rule = await local.createRule([{ url: `${twiceReceiver.url}/a` }, { url: `${twiceReceiver.url}/b` }]);
      // Published before the service starts, in one send: the copies reach it in the same batch, before
      // the watermark that completes their window.
      const { startMs, endMs } = local.nextRange();
      const part = windowPart({
        ruleId: rule.ruleId,
        version: rule.version,
        tenantId: local.tenantId,
        startMs,
        endMs,
        runs: [makeRun(local.tenantId)],
      });
      await local.publishParts([part, part]);
      await local.publishWatermark(0, endMs);
      const service = await local.start();
      await eventually("both copies read", () => service.counters.partsRead >= 2);
      await eventually(
        "both deliveries done",
        async () => (await local.deliveries()).filter((d) => d.status === "succeeded").length === 2,
      );
      // Both copies handled (offsets committed after their deliveries were stored), nothing left to send.
      await eventually("both copies handled", () => local.windowsConsumed());
      await eventually("no delivery left to send", async () =>
        (await local.deliveries()).every((d) => d.status === "succeeded"),
      );
      expect(twiceReceiver.received.map((r) => r.url).sort()).toEqual(["/a", "/b"]);
      expect(service.counters).toMatchObject({ partsDuplicate: { part_seen: 1 }, windowsCompleted: 1 });
    } finally {
      await local.close();
      await twiceReceiver.close();
    }
  });
});
