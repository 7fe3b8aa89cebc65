import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot, startPostgres, stopPostgres } from "@runhooks/infra";
import { sql } from "@runhooks/db";
import { createDeliveryHarness, eventually, newSecret, sleep, type DeliveryHarness } from "./harness.js";
import { freePort, startReceiver, type Receiver } from "./receiver.js";

const WINDOWS = 600;

/** A throw-away embedded PostgreSQL of this test's own, so the shared one stays up. */
const dir = join(repoRoot, ".runhooks-delivery-pg-restart");

describe("Postgres restart during delivery", () => {
  let h: DeliveryHarness | undefined;
  let receiver: Receiver | undefined;
  let port = 0;
  afterAll(async () => {
    await h?.close().catch(() => undefined);
    await receiver?.close();
    await stopPostgres(dir).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it("pauses while the database is down, resumes, and loses nothing", async () => {
    port = await freePort();
    const start = () => startPostgres({ dir, port, database: "runhooks", report: () => undefined });
    const pg = await start();
    h = await createDeliveryHarness("pgrestart", { databaseUrl: pg.url });
    const secret = newSecret();
    receiver = await startReceiver((_r, n, res) => void setTimeout(() => res.writeHead(200).end(), n % 10), { secret });
    const rule = await h.createRule([{ url: `${receiver.url}/hook`, signing_secret: secret }]);
    const service = await h.start({ http: { host: "127.0.0.1", port: 0 }, concurrency: 32 });
    const health = async () => (await fetch(`${service.url!}/healthz`)).status;
    expect(await health()).toBe(200);

    const production = (async () => {
      for (let i = 0; i < WINDOWS; i += 50) {
        await h.publishWindows(rule, 50, 1);
        await sleep(250);
      }
    })();
    await eventually("deliveries to be under way", () => receiver!.received.length > 50);
    await stopPostgres(dir);
    const downAt = receiver.received.length;
    // While it is down: the service says so, and keeps its work (nothing acknowledged is lost).
    await eventually("the service to notice", async () => (await health()) === 503, 20_000);
    await sleep(2000);
    await start();
    await production;

    const safe = async <T>(q: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await q();
      } catch {
        return undefined;
      }
    };
    await eventually(
      "every delivery to succeed and be published",
      async () => {
        const row = await safe(async () => {
          const [r] = (await h!.db.query(sql`
            SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'succeeded')::int AS ok,
              (SELECT count(*)::int FROM delivery_attempts WHERE outcome <> 'interrupted' AND published_at IS NULL) AS unpublished
            FROM deliveries`)) as { total: number; ok: number; unpublished: number }[];
          return r;
        });
        return row !== undefined && row.total === WINDOWS && row.ok === WINDOWS && row.unpublished === 0;
      },
      120_000,
    );
    expect(await health()).toBe(200);
    // It met the outage: a statement failed, or its instance lock's connection dropped (whichever came
    // first; with the lock lost it claims nothing, so a quiet moment may fail no statement at all).
    const lockLost = h.logs.some((l) => l.includes("lost the instance lock"));
    expect(service.counters.databaseErrors > 0 || lockLost).toBe(true);
    expect(receiver.received.length).toBeGreaterThan(downAt);

    const deliveries = await h.deliveries();
    const attempts = await h.attempts();
    const receivedIds = new Set(receiver.received.map((r) => r.id));
    expect(deliveries).toHaveLength(WINDOWS);
    for (const d of deliveries) expect(receivedIds.has(d.id)).toBe(true);
    expect(attempts.filter((a) => a.outcome === "success")).toHaveLength(WINDOWS);
    const rows = new Set(attempts.map((a) => `${a.delivery_id}/${a.attempt}`));
    expect(receiver.received.filter((r) => !rows.has(`${r.id}/${r.attempt}`))).toEqual([]);
    // In-flight attempts finished during the outage were kept and recorded afterwards, not repeated.
    const interrupted = attempts.filter((a) => a.outcome === "interrupted").length;
    expect(receiver.received.length - receivedIds.size).toBeLessThanOrEqual(interrupted);
    console.log(
      `[pg restart] ${WINDOWS} windows; ${downAt} requests before the stop; ${receiver.received.length} requests in all, ` +
        `${service.counters.databaseErrors} database errors retried, ${interrupted} attempts interrupted`,
    );
  }, 300_000);
});
