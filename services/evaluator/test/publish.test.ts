import { describe, expect, it } from "vitest";
import { byteBudgetChunks } from "../src/send-chunks.js";

describe("publishing within the broker's batch limit", () => {
  const msg = (n: number, partition?: number) => ({
    value: "x".repeat(n),
    ...(partition === undefined ? {} : { partition }),
  });
  const sizes = (chunks: ReturnType<typeof byteBudgetChunks>) =>
    chunks.map((c) =>
      c.map((t) => [t.topic, t.messages.map((m) => `${m.partition ?? "?"}:${String(m.value).length}`)]),
    );

  it("splits sends so that no topic-partition gets more than the budget in one send, keeping order", () => {
    const chunks = byteBudgetChunks(
      [
        { topic: "dlq", messages: [msg(300, 0)] },
        { topic: "windows", messages: [msg(400, 0), msg(400, 1), msg(400, 0), msg(100, 1), msg(900, 0)] },
      ],
      1000,
    );
    expect(sizes(chunks)).toEqual([
      [
        ["dlq", ["0:300"]],
        ["windows", ["0:400", "1:400", "0:400", "1:100"]],
      ],
      [["windows", ["0:900"]]],
    ]);
  });

  it("counts messages without a partition as one partition of their topic", () => {
    const chunks = byteBudgetChunks([{ topic: "w", messages: [msg(600), msg(600), msg(600, 2)] }], 1000);
    expect(sizes(chunks)).toEqual([[["w", ["?:600"]]], [["w", ["?:600", "2:600"]]]]);
  });

  it("keeps a send under its total budget too", () => {
    const chunks = byteBudgetChunks([{ topic: "w", messages: [msg(600, 0), msg(600, 1), msg(600, 2)] }], 1000, 1500);
    expect(sizes(chunks)).toEqual([[["w", ["0:600", "1:600"]]], [["w", ["2:600"]]]]);
  });

  it("sends a message bigger than the budget on its own", () => {
    const chunks = byteBudgetChunks([{ topic: "w", messages: [msg(10, 0), msg(5000, 0), msg(10, 0)] }], 1000);
    expect(chunks.map((c) => c.flatMap((t) => t.messages.map((m) => String(m.value).length)))).toEqual([
      [10],
      [5000],
      [10],
    ]);
  });
});
