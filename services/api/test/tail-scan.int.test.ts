import { afterAll, describe, expect, it } from "vitest";
import { ensureTopics } from "@runhooks/kafka";
import { scanPublishedOutbox, TailScanTimeoutError } from "@runhooks/api";
import { testKafka, uniquePrefix } from "../../../test/support/stack.js";

describe("scanPublishedOutbox", () => {
  const kafka = testKafka("tail-scan-test");
  const topic = `${uniquePrefix("tailscan")}.rules`;
  afterAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it("fails with a retriable timeout error when the scan cannot finish in time, instead of hanging", async () => {
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ name: topic, numPartitions: 1, config: {}, purpose: "test" }]);
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ value: "not ours" }] });
    await producer.disconnect();

    // Joining the throw-away group alone takes longer than 20 ms: the scan cannot finish in time.
    const error = await scanPublishedOutbox({ kafka, topic, streamId: "s", fromOffset: null, timeoutMs: 20 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TailScanTimeoutError);
    expect((error as TailScanTimeoutError).retriable).toBe(true);
    // With the default timeout the same scan reads to the end (nothing there is ours).
    expect(await scanPublishedOutbox({ kafka, topic, streamId: "s", fromOffset: null })).toEqual([]);
  }, 60_000);
});
