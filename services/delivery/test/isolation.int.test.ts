import { afterAll, describe, expect, it } from "vitest";
import type { ServerResponse } from "node:http";
import { createDeliveryHarness, eventually, type DeliveryHarness } from "./harness.js";
import { reply, startReceiver, type Receiver } from "./receiver.js";

describe("per-origin isolation", () => {
  let h: DeliveryHarness | undefined;
  const receivers: Receiver[] = [];
  afterAll(async () => {
    await h?.close();
    for (const r of receivers) await r.close();
  });

  it("a hanging endpoint holds only its own slots: a healthy one's deliveries go through meanwhile", async () => {
    h = await createDeliveryHarness("isolation");
    const held: ServerResponse[] = [];
    // Never answers until the test lets it: no timing is involved in what follows.
    const hanging = await startReceiver((_r, _n, res) => void held.push(res));
    const healthy = await startReceiver(reply(200));
    receivers.push(hanging, healthy);
    const hangRule = await h.createRule([{ url: `${hanging.url}/hang` }]);
    const okRule = await h.createRule([{ url: `${healthy.url}/ok` }]);

    // 8 attempts in flight in all, 3 per origin: without per-origin limits the hanging endpoint would
    // take all 8.
    await h.start({ concurrency: 8, originConcurrency: 3, timeoutMs: 120_000 });
    const hangWindows = await h.publishWindows(hangRule, 20);
    await eventually("the hanging endpoint to hold its share", () => hanging.received.length >= 3);
    const okWindows = await h.publishWindows(okRule, 40);

    await eventually("every delivery to the healthy endpoint to succeed", async () => {
      const rows = await h!.deliveries({ windowIds: okWindows.map((w) => w.window_id) });
      return rows.length === 40 && rows.every((r) => r.status === "succeeded");
    });
    // Meanwhile the hanging endpoint got exactly its limit of requests, none answered; its lane holds
    // at most 4 × its limit claimed (3 sending, the rest waiting), the others stay in the queue.
    expect(hanging.received).toHaveLength(3);
    expect(healthy.received).toHaveLength(40);
    const stuck = await h.deliveries({ windowIds: hangWindows.map((w) => w.window_id) });
    const claimed = stuck.filter((d) => d.status === "in_flight").length;
    expect(claimed).toBeGreaterThanOrEqual(3);
    expect(claimed).toBeLessThanOrEqual(12);
    expect(stuck.filter((d) => d.status === "pending")).toHaveLength(20 - claimed);

    // Once it answers, its own backlog drains too.
    for (const res of held.splice(0)) res.writeHead(200).end();
    const release = setInterval(() => {
      for (const res of held.splice(0)) res.writeHead(200).end();
    }, 20);
    try {
      await eventually("the hanging endpoint's backlog to drain", async () => {
        const rows = await h!.deliveries({ windowIds: hangWindows.map((w) => w.window_id) });
        return rows.every((r) => r.status === "succeeded");
      });
    } finally {
      clearInterval(release);
    }
    expect(hanging.received).toHaveLength(20);
  }, 120_000);
});
