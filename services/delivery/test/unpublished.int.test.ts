import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTopics, topicSpecs } from "@runhooks/kafka";
import { createDeliveryHarness, eventually, type DeliveryHarness } from "./harness.js";
import { reply, startReceiver, type Receiver } from "./receiver.js";

/**
 * Attempts are published to the attempts topic before their rows are written. When Kafka refuses them
 * (here: the topic is missing, and the service may not create it), the webhooks are still delivered,
 * the attempts recorded unpublished — and once the topic is back the sweeper publishes each of them.
 */

let h: DeliveryHarness;
let receiver: Receiver;

beforeAll(async () => {
  h = await createDeliveryHarness("unpublished");
  receiver = await startReceiver(reply(200, "ok"));
  const admin = h.kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [h.topics.attempts] });
  await admin.disconnect();
}, 60_000);

afterAll(async () => {
  await h?.close();
  await receiver?.close();
});

describe("attempts Kafka does not take", () => {
  it("are delivered and recorded unpublished, then published by the sweeper once Kafka takes them", async () => {
    const rule = await h.createRule([{ url: `${receiver.url}/hook` }]);
    const service = await h.start({ timeoutMs: 2000 });
    const windows = await h.publishWindows(rule, 5);

    await eventually(
      "every delivery succeeded",
      async () => (await h.deliveries()).filter((d) => d.status === "succeeded").length === 5,
    );
    const recorded = await h.attempts();
    expect(recorded.map((a) => [a.outcome, a.published_at])).toEqual(windows.map(() => ["success", null]));
    expect(service.counters.publishFailures).toBeGreaterThanOrEqual(5);
    expect(receiver.received).toHaveLength(5);

    const admin = h.kafka.admin();
    await admin.connect();
    await eventually("the attempts topic recreated", async () => {
      try {
        await ensureTopics(
          admin,
          topicSpecs({ prefix: h.prefix }).filter((t) => t.name === h.topics.attempts),
        );
        return true;
      } catch {
        return false; // still being deleted
      }
    });
    await admin.disconnect();

    // Unpublished rows older than twice the deadline (here 4 s, at least 10 s) are the sweeper's.
    await eventually(
      "every attempt published",
      async () => (await h.attempts()).every((a) => a.published_at !== null),
      60_000,
    );
    const messages = await h.attemptMessages(5);
    expect(new Set(messages.map((m) => `${m.value.delivery_id}/${m.value.attempt}/${m.value.outcome}`))).toEqual(
      new Set(recorded.map((a) => `${a.delivery_id}/${a.attempt}/${a.outcome}`)),
    );
  }, 120_000);
});
