import { afterAll, describe, expect, it } from "vitest";
import { sql } from "@runhooks/db";
import { createDeliveryHarness, eventually, type DeliveryHarness } from "./harness.js";
import { startReceiver, type Receiver } from "./receiver.js";

describe("lease renewal", () => {
  let h: DeliveryHarness | undefined;
  let receiver: Receiver | undefined;
  afterAll(async () => {
    await h?.close();
    await receiver?.close();
  });

  it("a live process keeps deliveries waiting in its lane far longer than the lease: none reaped, each sent once", async () => {
    h = await createDeliveryHarness("drenew");
    // One at a time to a slow endpoint: the last of 8 waits ~7 attempts, several times the 2 s lease.
    receiver = await startReceiver((_r, _n, res) => {
      setTimeout(() => res.writeHead(200).end("ok"), 900);
    });
    const rule = await h.createRule([{ url: `${receiver.url}/hook` }]);
    await h.start({ leaseMs: 2000, originConcurrency: 1, timeoutMs: 3000 });
    const windows = await h.publishWindows(rule, 8, 1);

    await eventually(
      "every delivery to succeed",
      async () => {
        const rows = await h!.deliveries();
        return rows.length === windows.length && rows.every((d) => d.status === "succeeded");
      },
      60_000,
    );
    const attempts = await h.attempts();
    expect(attempts.filter((a) => a.outcome === "interrupted")).toEqual([]);
    expect(attempts.map((a) => a.outcome)).toEqual(windows.map(() => "success"));
    expect(receiver.received).toHaveLength(windows.length);
    // The wait really outlasted the lease (else the test proves nothing): first to last send ≥ 2 leases.
    const at = receiver.received.map((r) => r.at);
    expect(Math.max(...at) - Math.min(...at)).toBeGreaterThan(4000);
    const [row] = (await h.db.query(sql`SELECT count(*)::int AS n FROM deliveries WHERE lease_until IS NOT NULL`)) as {
      n: number;
    }[];
    expect(row!.n).toBe(0);
  }, 120_000);
});
