import { afterEach, describe, expect, it } from "vitest";
import { stopOnSignals } from "../src/signals.js";

describe("stopOnSignals", () => {
  let remove: (() => void) | undefined;
  afterEach(() => remove?.());

  it("stops once on the first signal, ignores later ones (its handlers stay installed), then exits 0", async () => {
    let finish!: () => void;
    let stops = 0;
    const exits: number[] = [];
    const lines: string[] = [];
    const before = process.listenerCount("SIGTERM");
    remove = stopOnSignals(
      () => {
        stops++;
        return new Promise<void>((resolve) => (finish = resolve));
      },
      (_level, message) => void lines.push(message),
      (code) => void exits.push(code),
    );
    process.emit("SIGTERM", "SIGTERM");
    process.emit("SIGTERM", "SIGTERM");
    process.emit("SIGINT", "SIGINT");
    // Still handled: a signal without a handler would end the process by its default action.
    expect(process.listenerCount("SIGTERM")).toBe(before + 1);
    expect(stops).toBe(1);
    expect(exits).toEqual([]);
    finish();
    await new Promise((r) => setImmediate(r));
    expect(exits).toEqual([0]);
    expect(lines).toEqual([
      "received SIGTERM; stopping",
      "received SIGTERM while stopping; ignored",
      "received SIGINT while stopping; ignored",
    ]);
  });

  it("exits 1 when stopping fails", async () => {
    const exits: number[] = [];
    remove = stopOnSignals(
      () => Promise.reject(new Error("broken")),
      () => undefined,
      (code) => void exits.push(code),
    );
    process.emit("SIGINT", "SIGINT");
    await new Promise((r) => setImmediate(r));
    expect(exits).toEqual([1]);
  });
});
