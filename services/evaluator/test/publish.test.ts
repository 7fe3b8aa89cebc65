import { describe, expect, it } from "vitest";
import { byteBudgetChunks } from "../src/send-chunks.js";

describe("publishing within the broker's batch limit", () => {
  const msg = (n: number) => ({ value: "x".repeat(n) });

  it("splits sends so that no send carries more than the budget, keeping order", () => {
    const chunks = byteBudgetChunks(
      [
        { topic: "dlq", messages: [msg(300)] },
        { topic: "windows", messages: [msg(400), msg(400), msg(100), msg(900)] },
      ],
      1000,
    );
    expect(chunks.map((c) => c.map((t) => [t.topic, t.messages.map((m) => String(m.value).length)]))).toEqual([
      [["dlq", [300]], ["windows", [400]]],
      [["windows", [400, 100]]],
      [["windows", [900]]],
    ]);
  });

  it("sends a message bigger than the budget on its own", () => {
    const chunks = byteBudgetChunks([{ topic: "w", messages: [msg(10), msg(5000), msg(10)] }], 1000);
    expect(chunks.map((c) => c.flatMap((t) => t.messages.map((m) => String(m.value).length)))).toEqual([[10], [5000], [10]]);
  });
});
