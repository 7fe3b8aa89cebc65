import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { isRetriable } from "@runhooks/errors";
import { createKafka, ensureTopics } from "@runhooks/kafka";
import { scanPublishedOutbox, TailScanTimeoutError } from "../src/relay/tail-scan.js";
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

    // A broker that accepts connections and never answers: the scan can never finish, whatever the
    // machine's speed, so only the scan's own deadline can end it.
    const silent = await silentBroker();
    try {
      const stuck = createKafka({
        brokers: [silent.address],
        clientId: "tail-scan-silent",
        logLevel: "error",
        logger: () => undefined,
      });
      const error = await scanPublishedOutbox({
        kafka: stuck,
        topic,
        streamId: "s",
        fromOffset: null,
        timeoutMs: 300,
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TailScanTimeoutError);
      expect(isRetriable(error)).toBe(true);
      expect(silent.connections()).toBeGreaterThan(0);
    } finally {
      await silent.close();
    }
    // With the default timeout the same scan reads to the end (nothing there is ours).
    expect(await scanPublishedOutbox({ kafka, topic, streamId: "s", fromOffset: null })).toEqual([]);
  }, 60_000);
});

/** A TCP server that takes connections and never writes a byte. */
async function silentBroker(): Promise<{ address: string; connections(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server: Server = createServer((socket) => {
    count += 1;
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
