import { afterAll, describe, expect, it } from "vitest";
import { createDeliveryHarness, eventually, type DeliveryHarness } from "./harness.js";
import { reply, startReceiver, type Receiver } from "./receiver.js";

describe("the SSRF guard", () => {
  let h: DeliveryHarness | undefined;
  let receiver: Receiver | undefined;
  afterAll(async () => {
    await h?.close();
    await receiver?.close();
  });

  it("refuses loopback destinations unless allowed: ssrf_blocked, no retry, nothing sent", async () => {
    h = await createDeliveryHarness("ssrf");
    receiver = await startReceiver(reply(200));
    const literal = await h.createRule([{ url: `${receiver.url}/literal` }]);
    const named = await h.createRule([{ url: `http://localhost:${receiver.port}/named` }]);
    const metadata = await h.createRule([{ url: "http://169.254.169.254/latest/meta-data/" }]);
    // The default: nothing private allowed.
    await h.start({ allowCidrs: [] });
    const windows = [
      ...(await h.publishWindows(literal, 1)),
      ...(await h.publishWindows(named, 1)),
      ...(await h.publishWindows(metadata, 1)),
    ];
    await eventually("all three deliveries to fail", async () => {
      const rows = await h!.deliveries({ windowIds: windows.map((w) => w.window_id) });
      return rows.length === 3 && rows.every((r) => r.status === "failed");
    });
    const attempts = await h.attempts();
    expect(attempts).toHaveLength(3);
    expect(attempts.map((a) => a.outcome)).toEqual(["ssrf_blocked", "ssrf_blocked", "ssrf_blocked"]);
    const errors = attempts.map((a) => a.error).join("\n");
    expect(errors).toMatch(/127\.0\.0\.1 is a loopback address/);
    expect(errors).toMatch(/localhost resolves only to refused addresses/);
    expect(errors).toMatch(/169\.254\.169\.254 is a link-local or cloud metadata address/);
    expect(receiver.received).toHaveLength(0);
  });
});
