import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "@runhooks/db";
import { murmur2 } from "@runhooks/kafka";
import type { Delivery } from "../src/index.js";
import { createDeliveryHarness, eventually, type DeliveryHarness } from "./harness.js";
import { reply, startReceiver, type Receiver } from "./receiver.js";

/**
 * A chunk of windows PostgreSQL refuses (here a trigger raising a check violation for one rule, the
 * way a defect in a statement would): it is said for what it is — not an unreachable database — and
 * retried, so nothing is lost; windows on the other windows partitions keep being stored and sent;
 * once the cause is gone the refused window is stored and delivered.
 */

let h: DeliveryHarness;
let delivery: Delivery;
let receiver: Receiver;

/** The windows partition a rule's parts land in (kafkajs' default partitioner: murmur2 of the rule id). */
async function partitionOf(ruleId: string): Promise<number> {
  const admin = h.kafka.admin();
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [h.topics.windows] });
    return (murmur2(Buffer.from(ruleId)) & 0x7fffffff) % meta.topics[0]!.partitions.length;
  } finally {
    await admin.disconnect();
  }
}

beforeAll(async () => {
  h = await createDeliveryHarness("store-refused");
  receiver = await startReceiver(reply(200));
  delivery = await h.start();
}, 60_000);

afterAll(async () => {
  await h?.db.query(sql`DROP TRIGGER IF EXISTS refuse_windows ON delivery_windows`).catch(() => undefined);
  await h?.close();
  await receiver?.close();
});

describe("a chunk of windows the database refuses", () => {
  it("is retried as refused, holds up only its windows partition, and is stored once the cause is gone", async () => {
    const refused = await h.createRule([{ url: `${receiver.url}/refused` }]);
    // Another rule whose parts land in another windows partition.
    let other = await h.createRule([{ url: `${receiver.url}/other` }]);
    while ((await partitionOf(other.ruleId)) === (await partitionOf(refused.ruleId)))
      other = await h.createRule([{ url: `${receiver.url}/other` }]);

    await h.db.query(
      sql.__dangerous__rawValue(`
      CREATE OR REPLACE FUNCTION refuse_windows() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused for the test' USING ERRCODE = 'check_violation'; END $$;
      CREATE TRIGGER refuse_windows BEFORE INSERT ON delivery_windows
        FOR EACH ROW WHEN (NEW.rule_id = '${refused.ruleId}') EXECUTE FUNCTION refuse_windows();`),
    );

    const [stuck] = await h.publishWindows(refused, 1);
    await eventually("the store refused twice", () => delivery.counters.windowsStoreRefused >= 2);
    const said = h.logs.filter((l) => l.includes("the database refused a chunk of windows"));
    expect(said.length).toBeGreaterThanOrEqual(2);
    expect(said[0]).toContain('"sqlstate":"23514"');
    expect(said[0]).toContain(stuck!.window_id);
    // The database answered: it is not reported unreachable.
    expect(h.logs.some((l) => l.includes("database unreachable"))).toBe(false);

    // Meanwhile another windows partition's window is stored and sent.
    const [flowing] = await h.publishWindows(other, 1);
    await eventually("the other partition's window delivered", () =>
      receiver.received.some(
        (r) =>
          r.url === "/other" &&
          (JSON.parse(r.body.toString()) as { start_time: string }).start_time === flowing!.start_time,
      ),
    );
    expect(await h.deliveries({ windowIds: [stuck!.window_id] })).toEqual([]);

    // The cause removed: the refused window is stored at its next try and delivered, nothing lost.
    await h.db.query(sql`DROP TRIGGER refuse_windows ON delivery_windows`);
    await eventually(
      "the refused window delivered",
      async () => (await h.deliveries({ windowIds: [stuck!.window_id] }))[0]?.status === "succeeded",
      60_000,
    );
    const body = receiver.received.find((r) => r.url === "/refused");
    expect((JSON.parse(body!.body.toString()) as { runs: { id: string }[] }).runs.map((r) => r.id)).toEqual(
      stuck!.runs.map((r) => r.id),
    );
  }, 120_000);
});
