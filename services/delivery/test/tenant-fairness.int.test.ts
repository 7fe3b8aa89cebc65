import { afterAll, describe, expect, it } from "vitest";
import { createDeliveryHarness, eventually, type DeliveryHarness } from "./harness.js";
import { reply, startReceiver, type Receiver } from "./receiver.js";

describe("fair between tenants", () => {
  let h: DeliveryHarness | undefined;
  const receivers: Receiver[] = [];
  afterAll(async () => {
    await h?.close();
    for (const r of receivers) await r.close();
  });

  it("a tenant whose backlog to slow endpoints holds every slot does not keep another tenant's deliveries waiting", async () => {
    h = await createDeliveryHarness("dtenants");
    // Tenant A: one rule with 8 slow endpoints (8 origins: origin fairness alone does not stop it from
    // holding every slot of a process with 8), and 20 windows of backlog — 160 deliveries, ~30 s alone.
    const slow = await Promise.all(
      Array.from({ length: 8 }, () =>
        startReceiver((_r, _n, res) => {
          setTimeout(() => res.writeHead(200).end("ok"), 1500);
        }),
      ),
    );
    receivers.push(...slow);
    const ruleA = await h.createRule(slow.map((r) => ({ url: `${r.url}/a` })));
    const fast = await startReceiver(reply(200, "ok"));
    receivers.push(fast);
    const tenantB = await h.createTenant("tenant b");
    const ruleB = await h.createRule([{ url: `${fast.url}/b` }], tenantB);

    await h.start({ concurrency: 8, originConcurrency: 8 });
    await h.publishWindows(ruleA, 20, 1);
    const slowReceived = () => slow.reduce((n, r) => n + r.received.length, 0);
    await eventually("tenant A to hold every slot", () => slowReceived() >= 8);
    const windowsB = await h.publishWindows(ruleB, 4, 1, tenantB);

    await eventually(
      "tenant B's deliveries to succeed",
      async () => {
        const rows = await h!.deliveries({ windowIds: windowsB.map((w) => w.window_id) });
        return rows.length === 4 && rows.every((d) => d.status === "succeeded");
      },
      60_000,
    );
    // A's backlog is mostly still there: B went ahead of it, it did not wait for it.
    const doneA = (await h.deliveries()).filter((d) => d.status === "succeeded").length - 4;
    expect(fast.received).toHaveLength(4);
    expect(doneA).toBeLessThan(80);
    // And A gets all of its deliveries through in the end.
    await eventually(
      "tenant A's deliveries to succeed",
      async () => (await h!.deliveries()).filter((d) => d.status === "succeeded").length === 164,
      120_000,
    );
  }, 180_000);
});
