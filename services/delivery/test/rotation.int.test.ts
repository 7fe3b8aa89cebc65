import { afterAll, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { rotateSigningSecret } from "@runhooks/db";
import { createDeliveryHarness, eventually, newSecret, type DeliveryHarness } from "./harness.js";
import { reply, startReceiver, type Receiver } from "./receiver.js";

/**
 * A receiver mid-switch: it still holds the old secret while windows of the rotated version arrive.
 * Each request carries both signatures, so a receiver with either secret accepts it.
 */
describe("a signing-secret rotation", () => {
  let h: DeliveryHarness | undefined;
  let receiver: Receiver | undefined;
  afterAll(async () => {
    await h?.close();
    await receiver?.close();
  });

  it("delivers windows that verify with the old secret and with the new one during the overlap", async () => {
    h = await createDeliveryHarness("rotation");
    const old = newSecret();
    receiver = await startReceiver(reply(200), { secret: old });
    const rule = await h.createRule([{ url: `${receiver.url}/in`, signing_secret: old }]);
    const fresh = newSecret();
    const rotated = await rotateSigningSecret(h.db, {
      tenantId: h.tenantId,
      ruleId: rule.ruleId,
      webhookId: rule.webhookIds[0]!,
      secret: fresh,
      graceSeconds: 3600,
      now: new Date(),
    });
    if (!rotated.ok) throw new Error(`not rotated: ${rotated.reason}`);
    await h.start();
    await h.publishWindows({ ...rule, version: rotated.record.version }, 2);
    await eventually(
      "both windows delivered",
      async () =>
        (await h!.deliveries()).every((d) => d.status === "succeeded") && (await h!.deliveries()).length === 2,
    );

    expect(receiver.received).toHaveLength(2);
    for (const r of receiver.received) {
      expect(r.verified).toBe(true);
      expect(String(r.headers["webhook-signature"]).split(" ")).toHaveLength(2);
      const headers = {
        "webhook-id": String(r.headers["webhook-id"]),
        "webhook-timestamp": String(r.headers["webhook-timestamp"]),
        "webhook-signature": String(r.headers["webhook-signature"]),
      };
      expect(() => new Webhook(fresh).verify(r.body, headers)).not.toThrow();
    }
  }, 60_000);
});
