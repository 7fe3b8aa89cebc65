import { randomUUID } from "node:crypto";
import { KafkaUnavailableError, type RunMessage } from "../src/producer.js";
import { startProducerThread } from "../src/producer-thread.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIngestHarness, silent, type IngestHarness } from "./harness.js";
import { freePort } from "../../../test/support/net.js";

function message(id: string, text: string): RunMessage {
  const value = JSON.stringify({ id, text });
  return { key: `trace-${id}`, value, bytes: Buffer.byteLength(value), runId: id };
}

describe("the Kafka producer thread", () => {
  let h: IngestHarness;

  beforeAll(async () => {
    h = await createIngestHarness("producer-thread");
  });

  afterAll(async () => {
    await h?.close();
  });

  it("produces each run's key and value byte for byte, multi-byte text included, and refuses sends once stopped", async () => {
    const thread = await startProducerThread({
      brokers: h.brokers,
      clientId: "producer-thread-test",
      topic: h.topics.runs,
      timeoutMs: 5000,
      log: silent,
    });
    const texts = ["plain", "é ü ß", "日本語のテキスト", "emoji 😀🚀", "\u2028 line sep", "x".repeat(5000)];
    const batches = [0, 1].map(() => texts.map((t) => message(randomUUID(), t)));
    await Promise.all(batches.map((b) => thread.send(b)));
    const sent = batches.flat();
    await h.waitForRuns((runs) => sent.every((m) => runs.some((r) => r.run["id"] === m.runId)));
    for (const m of sent) {
      const got = h.runs.find((r) => r.run["id"] === m.runId)!;
      expect(got.key).toBe(m.key);
      expect(JSON.stringify(got.run)).toBe(m.value);
    }
    expect(thread.problem()).toBeUndefined();
    await thread.stop();
    await expect(thread.send([message(randomUUID(), "late")])).rejects.toBeInstanceOf(KafkaUnavailableError);
  });

  it("does not start when no broker answers", async () => {
    const port = await freePort();
    await expect(
      startProducerThread({
        brokers: [`127.0.0.1:${port}`],
        clientId: "producer-thread-test",
        topic: h.topics.runs,
        timeoutMs: 1000,
        log: silent,
      }),
    ).rejects.toThrow(/could not connect to Kafka/);
  });
});
