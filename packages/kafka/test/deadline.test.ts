import { describe, expect, it } from "vitest";
import { acknowledgedWithin } from "@runhooks/kafka";

const later = <T>(ms: number, value: T, fail = false) =>
  new Promise<T>((resolve, reject) => setTimeout(() => (fail ? reject(new Error("refused")) : resolve(value)), ms));

describe("acknowledgedWithin", () => {
  it("passes on a send that settles in time, value or error", async () => {
    await expect(acknowledgedWithin(later(5, "acked"), 1000, () => new Error("late"))).resolves.toBe("acked");
    await expect(acknowledgedWithin(later(5, "x", true), 1000, () => new Error("late"))).rejects.toThrow("refused");
  });

  it("gives up with the caller's error once the time is up, and ignores the send's later failure", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      await expect(
        acknowledgedWithin(later(200, "x", true), 20, () => new Error("no ack within 20 ms")),
      ).rejects.toThrow("no ack within 20 ms");
      await later(250, undefined);
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
