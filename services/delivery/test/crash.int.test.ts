import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { repoRoot } from "@runhooks/infra";
import { sql } from "@runhooks/db";
import { createDeliveryHarness, eventually, newSecret, sleep, type DeliveryHarness } from "./harness.js";
import { startReceiver, type Receiver } from "./receiver.js";
import { mulberry32 } from "../../../test/support/random.js";

const WINDOWS = 2000;
const KILLS = 5;
const CONCURRENCY = 64;

describe("delivery crash test", () => {
  let h: DeliveryHarness | undefined;
  let receiver: Receiver | undefined;
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await h?.close();
    await receiver?.close();
  });

  it(`delivers every window at least once while SIGKILLed ${KILLS} times during ${WINDOWS} windows`, async () => {
    h = await createDeliveryHarness("dcrash");
    const random = mulberry32(20_261_126);
    const secret = newSecret();
    // A little latency, so that attempts are in flight when a kill lands.
    receiver = await startReceiver(
      (_r, _n, res) => {
        setTimeout(() => res.writeHead(200).end("ok"), Math.floor(random() * 20));
      },
      { secret },
    );
    const rule = await h.createRule([{ url: `${receiver.url}/hook?secret=crash-test`, signing_secret: secret }]);

    const spawnDelivery = () => {
      const child = spawn(process.execPath, ["--import", "tsx", "--conditions=source", join(repoRoot, "services/delivery/src/main.ts")], {
        env: {
          ...process.env,
          KAFKA_BROKERS: inject("kafkaBrokers").join(","),
          DATABASE_URL: h!.database.url,
          RUNHOOKS_TOPIC_PREFIX: h!.prefix,
          RUNHOOKS_DELIVERY_GROUP: `${h!.prefix}-delivery`,
          RUNHOOKS_DELIVERY_PORT: "-1",
          RUNHOOKS_DELIVERY_ALLOW_CIDRS: "127.0.0.1/32",
          RUNHOOKS_DELIVERY_CONCURRENCY: String(CONCURRENCY),
          RUNHOOKS_DELIVERY_LEASE_MS: "8000",
          RUNHOOKS_DELIVERY_POLL_MS: "50",
          RUNHOOKS_SESSION_TIMEOUT_MS: "6000",
          RUNHOOKS_LOG_LEVEL: "warn",
        },
        stdio: ["ignore", "ignore", "inherit"],
      });
      children.push(child);
      return child;
    };
    const attemptRows = async () =>
      ((await h!.db.query(sql`SELECT count(*)::int AS n FROM delivery_attempts`)) as { n: number }[])[0]!.n;

    // 2,000 windows in 6 chunks, one before each kill and one after the last: each chunk flows in
    // slices while that process delivers, and the kill lands at a random moment of its work.
    const windowIds: string[] = [];
    const chunk = Math.ceil(WINDOWS / (KILLS + 1));
    const publishChunk = async (k: number) => {
      const size = Math.min(chunk, WINDOWS - k * chunk);
      for (let sent = 0; sent < size; sent += 50) {
        windowIds.push(...(await h!.publishWindows(rule, Math.min(50, size - sent), 1)).map((w) => w.window_id));
        await sleep(150);
      }
    };
    let current = spawnDelivery();
    for (let k = 0; k < KILLS; k++) {
      const before = await attemptRows();
      const production = publishChunk(k);
      // Kill only once this process is delivering, then at a random moment.
      await eventually("the delivery process to make progress", async () => (await attemptRows()) > before + 20, 60_000);
      await sleep(random() * 600);
      current.kill("SIGKILL");
      await new Promise((r) => current.once("exit", r));
      await production;
      current = spawnDelivery();
    }
    await publishChunk(KILLS);
    expect(windowIds).toHaveLength(WINDOWS);

    await eventually(
      "every delivery to succeed and every attempt to be published",
      async () => {
        const [row] = (await h!.db.query(sql`
          SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'succeeded')::int AS ok,
            (SELECT count(*)::int FROM delivery_attempts WHERE outcome <> 'interrupted' AND published_at IS NULL) AS unpublished
          FROM deliveries`)) as { total: number; ok: number; unpublished: number }[];
        return row!.total === WINDOWS && row!.ok === WINDOWS && row!.unpublished === 0;
      },
      180_000,
    );
    // A graceful stop after all that.
    current.kill("SIGTERM");
    const code = await new Promise<number | null>((r) => current.once("exit", (exitCode) => r(exitCode)));
    expect(code).toBe(0);

    const deliveries = await h.deliveries();
    const attempts = await h.attempts();
    // Every window delivered: one delivery each, succeeded, and the receiver got it.
    expect(new Set(deliveries.map((d) => d.window_id))).toEqual(new Set(windowIds));
    const receivedIds = new Set(receiver.received.map((r) => r.id));
    for (const d of deliveries) expect(receivedIds.has(d.id), `delivery ${d.id} reached the receiver`).toBe(true);
    expect(receiver.received.every((r) => r.verified === true)).toBe(true);
    expect(attempts.filter((a) => a.outcome === "success")).toHaveLength(WINDOWS);

    // Every attempt the receiver saw has its row.
    const rows = new Set(attempts.map((a) => `${a.delivery_id}/${a.attempt}`));
    const missing = receiver.received.filter((r) => !rows.has(`${r.id}/${r.attempt}`));
    expect(missing).toEqual([]);

    // Duplicates only where a kill caught an attempt in flight (recorded with outcome interrupted).
    const interrupted = attempts.filter((a) => a.outcome === "interrupted");
    const duplicates = receiver.received.length - receivedIds.size;
    expect(duplicates).toBeLessThanOrEqual(interrupted.length);
    // A process holds at most twice its concurrency claimed (in flight, or waiting in its lanes).
    expect(interrupted.length).toBeLessThanOrEqual(KILLS * 2 * CONCURRENCY);
    for (const a of interrupted) expect(a.error).toMatch(/^interrupted/);

    // And on the attempts topic, every recorded outcome at least once.
    const messages = await h.attemptMessages(attempts.length - interrupted.length);
    const published = new Set(messages.map((m) => `${m.value.delivery_id}/${m.value.attempt}`));
    for (const a of attempts) if (a.outcome !== "interrupted") expect(published.has(`${a.delivery_id}/${a.attempt}`)).toBe(true);

    console.log(
      `[delivery crash test] ${WINDOWS} windows, ${KILLS} SIGKILLs: ${receiver.received.length} requests for ${receivedIds.size} deliveries ` +
        `(${duplicates} duplicates, ${interrupted.length} attempts interrupted by the kills), ${attempts.length} attempt rows, ${messages.length} attempt messages`,
    );
  }, 600_000);
});
