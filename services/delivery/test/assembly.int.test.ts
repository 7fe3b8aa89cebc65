import { afterAll, describe, expect, it } from "vitest";
import type { Run } from "@runhooks/contracts";
import { sql } from "@runhooks/db";
import { mergedWindowId } from "@runhooks/rules";
import { createDeliveryHarness, eventually, makeRun, windowPart, type DeliveryHarness } from "./harness.js";
import { reply, startReceiver, type Receiver } from "./receiver.js";

/** Partitions of the harness' windows topic: every watermark reaches each. */
const WINDOWS_PARTITIONS = 3;

describe("assembling windows over every runs partition", () => {
  const harnesses: DeliveryHarness[] = [];
  const receivers: Receiver[] = [];
  afterAll(async () => {
    for (const h of harnesses) await h.close();
    for (const r of receivers) await r.close();
  });

  async function setUp(label: string, runsPartitions: number) {
    const h = await createDeliveryHarness(label, { runsPartitions });
    harnesses.push(h);
    const receiver = await startReceiver(reply(200));
    receivers.push(receiver);
    const rule = await h.createRule([{ url: `${receiver.url}/hook` }]);
    return { h, receiver, rule };
  }

  const newRuns = (h: DeliveryHarness, count: number) => Array.from({ length: count }, () => makeRun(h.tenantId));

  it("waits for every runs partition's watermark, goes on after a restart from its checkpoint, and sends chunks of max_runs", async () => {
    const { h, receiver, rule } = await setUp("assemble", 3);
    const { startMs, endMs } = h.nextRange(1000);
    const at = (i: number) => startMs + 10 * i;
    // 12 runs over three runs partitions, interleaved in time; max_runs 5: chunks of 5, 5 and 2.
    const runs: Run[][] = [newRuns(h, 5), newRuns(h, 4), newRuns(h, 3)];
    const times = runs.map((rs, p) => rs.map((_, i) => at(3 * i + p)));
    const part = (p: number) =>
      windowPart({
        ruleId: rule.ruleId,
        version: rule.version,
        tenantId: h.tenantId,
        startMs,
        endMs,
        runs: runs[p]!,
        runsPartition: p,
        maxRuns: 5,
        runTimes: times[p]!,
      });

    const first = await h.start({ instanceId: "assemble-1" });
    await h.publishParts([part(0), part(1)]);
    await h.publishWatermark(0, endMs);
    await h.publishWatermark(1, endMs + 500);
    await eventually("both watermarks read", () => first.counters.watermarksRead >= 2 * WINDOWS_PARTITIONS);
    // Runs partition 2 has no watermark yet: the window stays open.
    expect(first.counters.windowsCompleted).toBe(0);
    expect(await h.windowsConsumed()).toBe(false);

    // A restart: the next process resumes from the checkpoint, at the first part of the open window.
    await first.stop();
    const second = await h.start({ instanceId: "assemble-2" });
    await h.publishParts([part(2)]);
    await h.publishWatermark(2, endMs);
    await eventually("three chunks delivered", () => receiver.received.length >= 3);
    await eventually("every message handled", () => h.windowsConsumed());

    expect(second.counters).toMatchObject({ partsRead: 3, windowsCompleted: 3, windowsStored: 3 });
    const posts = [...receiver.received].sort(
      (a, b) => Number(a.headers["runhooks-chunk-index"]) - Number(b.headers["runhooks-chunk-index"]),
    );
    expect(posts.map((r) => [r.headers["runhooks-chunk-index"], r.headers["runhooks-chunk-count"]])).toEqual([
      ["0", "3"],
      ["1", "3"],
      ["2", "3"],
    ]);
    // Every run once, in the order of their times across partitions; the same bounds on every chunk.
    const bodies = posts.map(
      (r) => JSON.parse(r.body.toString()) as { rule_id: string; start_time: string; end_time: string; runs: Run[] },
    );
    const inOrder = runs
      .flatMap((rs, p) => rs.map((r, i) => ({ r, t: times[p]![i]! })))
      .sort((a, b) => a.t - b.t)
      .map(({ r }) => r);
    expect(bodies.map((b) => b.runs.length)).toEqual([5, 5, 2]);
    expect(bodies.flatMap((b) => b.runs)).toEqual(inOrder);
    for (const b of bodies)
      expect(b).toMatchObject({
        rule_id: rule.ruleId,
        start_time: new Date(startMs).toISOString(),
        end_time: new Date(endMs).toISOString(),
      });
    const ids = (await h.db.query(
      sql`SELECT window_id, chunk_index, chunk_count FROM delivery_windows ORDER BY chunk_index`,
    )) as {
      window_id: string;
      chunk_index: number;
      chunk_count: number;
    }[];
    expect(ids).toEqual(
      [0, 1, 2].map((chunk) => ({
        window_id: mergedWindowId({ ruleId: rule.ruleId, ruleVersion: rule.version, startMs, chunk }),
        chunk_index: chunk,
        chunk_count: 3,
      })),
    );
  });

  it("counts a runs partition added while a window is open: the window waits for its watermark too", async () => {
    const { h, receiver, rule } = await setUp("grow", 2);
    const service = await h.start();
    const { startMs, endMs } = h.nextRange(1000);
    const part = (p: number, run: Run) =>
      windowPart({
        ruleId: rule.ruleId,
        version: rule.version,
        tenantId: h.tenantId,
        startMs,
        endMs,
        runs: [run],
        runsPartition: p,
      });
    const runs = [makeRun(h.tenantId), makeRun(h.tenantId), makeRun(h.tenantId)];
    await h.publishParts([part(0, runs[0]!), part(1, runs[1]!)]);
    // A third runs partition, created before the window's end (its watermarks are not read yet).
    const admin = h.kafka.admin();
    await admin.connect();
    try {
      await admin.createPartitions({ topicPartitions: [{ topic: h.topics.runs, count: 3 }] });
    } finally {
      await admin.disconnect();
    }
    await h.publishWatermark(0, endMs);
    await h.publishWatermark(1, endMs);
    await eventually("both watermarks read", () => service.counters.watermarksRead >= 2 * WINDOWS_PARTITIONS);
    expect(service.counters.windowsCompleted).toBe(0);

    await h.publishParts([part(2, runs[2]!)]);
    await h.publishWatermark(2, endMs);
    await eventually("the window delivered", () => receiver.received.length >= 1);
    const body = JSON.parse(receiver.received[0]!.body.toString()) as { runs: Run[] };
    expect(body.runs.map((r) => r.id).sort()).toEqual(runs.map((r) => r.id).sort());
    await eventually("every message handled", () => h.windowsConsumed());
    expect(receiver.received).toHaveLength(1);
    expect(service.counters.windowsCompleted).toBe(1);
  });
});
