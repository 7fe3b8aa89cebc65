import { describe, expect, it } from "vitest";
import { createFlushQueue } from "../src/flush-queue.js";

/** A flush the test settles by hand. */
function gate() {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { done, open, fail };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("a partition's flush queue", () => {
  it("runs flushes one at a time, in the order they were cut", async () => {
    const q = createFlushQueue(3, () => undefined);
    const log: string[] = [];
    const a = gate();
    const b = gate();
    await q.push(async () => {
      log.push("a start");
      await a.done;
      log.push("a end");
    });
    await q.push(async () => {
      log.push("b start");
      await b.done;
      log.push("b end");
    });
    await tick();
    expect(log).toEqual(["a start"]);
    b.open();
    await tick();
    expect(log).toEqual(["a start"]);
    a.open();
    await q.idle();
    expect(log).toEqual(["a start", "a end", "b start", "b end"]);
    expect(q.pending).toBe(0);
  });

  it("makes the folding side wait while `depth` flushes are pending", async () => {
    const q = createFlushQueue(2, () => undefined);
    const a = gate();
    await q.push(() => a.done);
    await q.push(() => Promise.resolve());
    let third = false;
    const pushed = q.push(() => Promise.resolve()).then(() => (third = true));
    await tick();
    expect(third).toBe(false);
    expect(q.pending).toBe(3);
    a.open();
    await pushed;
    expect(third).toBe(true);
    await q.idle();
    expect(q.pending).toBe(0);
  });

  it("runs no flush after a failed one, and reports the failure once", async () => {
    const failures: unknown[] = [];
    const q = createFlushQueue(4, (e) => failures.push(e));
    const ran: string[] = [];
    const a = gate();
    await q.push(async () => {
      ran.push("a");
      await a.done;
    });
    await q.push(() => {
      ran.push("b");
      return Promise.resolve();
    });
    await q.push(() => {
      ran.push("c");
      return Promise.resolve();
    });
    a.fail(new Error("produce refused"));
    await q.idle();
    expect(ran).toEqual(["a"]);
    expect(q.failed).toBe(true);
    expect(failures.map(String)).toEqual(["Error: produce refused"]);
    await q.push(() => {
      ran.push("d");
      return Promise.resolve();
    });
    await q.idle();
    expect(ran).toEqual(["a"]);
    expect(failures).toHaveLength(1);
  });
});
