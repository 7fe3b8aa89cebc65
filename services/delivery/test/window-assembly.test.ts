import { describe, expect, it } from "vitest";
import { createAssembleState, encodeAssembleCheckpoint, mergedWindowId, windowId, type PartRun } from "@runhooks/rules";
import {
  commitPoint,
  foldBatch,
  needsPartitionCount,
  startAssembly,
  type PartitionAssembly,
} from "../src/window-assembly.js";
import type { CompletedWindow, PartInput, WatermarkInput } from "../src/window-batch.js";
import { mulberry32 } from "../../../test/support/random.js";
import { simulate, type SimRule } from "../../../packages/rules/test/assemble/simulate.js";

const RULE = "11111111-1111-4111-8111-111111111111";
const TENANT = "33333333-3333-4333-8333-333333333333";
const TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const encoder = new TextEncoder();
const run = (id: string, time: number): PartRun => ({ runId: id, json: encoder.encode(`{"id":"${id}"}`), time });

function part(offset: number, p: number, runs: PartRun[], startMs = 0, maxRuns = 100): PartInput {
  return {
    kind: "part",
    offset,
    partId: windowId({ ruleId: RULE, ruleVersion: 1, partition: p, startMs, chunk: 0 }),
    ruleId: RULE,
    ruleVersion: 1,
    tenantId: TENANT,
    maxRuns,
    runsPartition: p,
    piece: 0,
    startMs,
    endMs: startMs + 5000,
    runs,
  };
}
const wm = (offset: number, runsPartition: number, streamTime: number): WatermarkInput => ({
  kind: "watermark",
  offset,
  runsPartition,
  streamTime,
});
const fresh = (): PartitionAssembly => startAssembly({ offset: -1, metadata: null }, 0);
const bodies = (windows: readonly CompletedWindow[]) =>
  windows.map((w) => `${w.windowId} ${w.chunkIndex}/${w.chunkCount} ${w.payload.toString()}`);

describe("where an assigned windows partition starts", () => {
  const checkpoint = encodeAssembleCheckpoint({ floor: 7000, partitions: 3 });
  it.each([
    [
      "nothing committed: from the first batch, from nothing",
      { offset: -1, metadata: null },
      12,
      { phase: "active", from: 12, floor: -Infinity, partitions: 0 },
    ],
    [
      "a checkpoint where the batch starts: restored",
      { offset: 40, metadata: checkpoint },
      40,
      { phase: "active", from: 40, floor: 7000, partitions: 3 },
    ],
    [
      "a checkpoint elsewhere: restored, seeking to it",
      { offset: 40, metadata: checkpoint },
      55,
      { phase: "seeking", from: 40, floor: 7000, partitions: 3 },
    ],
    [
      "an offset without a checkpoint: from it, from nothing",
      { offset: 40, metadata: "" },
      40,
      { phase: "active", from: 40, floor: -Infinity, partitions: 0 },
    ],
    [
      "metadata that is not a checkpoint: from nothing",
      { offset: 40, metadata: '{"v":9}' },
      41,
      { phase: "seeking", from: 40, floor: -Infinity, partitions: 0 },
    ],
  ])("%s", (_name, committed, first, expected) => {
    const a = startAssembly(committed, first);
    expect({ phase: a.phase, from: a.from, floor: a.state.floor, partitions: a.state.partitions }).toEqual(expected);
  });
});

describe("when the runs topic's partition count is fetched first", () => {
  const open = () => {
    const a = fresh();
    foldBatch(a, [part(0, 0, [run("a", 100)], 0)], new Map(), 2);
    return a;
  };
  it.each<[string, () => PartitionAssembly, (PartInput | WatermarkInput)[], boolean]>([
    ["no watermark", open, [part(5, 1, [run("b", 200)])], false],
    ["a watermark before every open window's end", open, [wm(5, 0, 4999)], false],
    ["a watermark reaching an open window's end", open, [wm(5, 0, 5000)], true],
    ["nothing open, a watermark", fresh, [wm(5, 0, 9000)], false],
    [
      "a window opened by the batch, then a watermark past its end",
      fresh,
      [part(5, 0, [run("a", 1)], 10_000), wm(6, 1, 15_000)],
      true,
    ],
    [
      "a watermark before the part that opens a window",
      fresh,
      [wm(5, 1, 15_000), part(6, 0, [run("a", 1)], 10_000)],
      false,
    ],
  ])("%s → %s", (_name, assembly, inputs, expected) => {
    expect(needsPartitionCount(assembly().state, inputs)).toBe(expected);
  });

  it("a part of a window completed already opens nothing to wait for", () => {
    const a = fresh();
    foldBatch(a, [part(0, 0, [run("a", 1)]), wm(1, 0, 5000)], new Map(), 1);
    expect(needsPartitionCount(a.state, [part(2, 0, [run("a", 1)]), wm(3, 0, 6000)])).toBe(false);
  });
});

describe("folding a batch", () => {
  it("completes a window over every runs partition once its count is known, in chunks of max_runs with their bodies", () => {
    const a = fresh();
    const traced = part(1, 1, [run("b", 400)], 0, 2);
    const first = foldBatch(
      a,
      [part(0, 0, [run("a", 300), run("c", 500)], 0, 2), traced, wm(2, 0, 5000), wm(3, 1, 5000)],
      new Map([[traced, TRACE]]),
      undefined,
    );
    expect(first.windows).toEqual([]); // no partition count yet
    const { windows } = foldBatch(a, [], new Map(), 2);
    expect(windows.map((w) => [w.windowId, w.chunkIndex, w.chunkCount, w.runCount, w.traceparent])).toEqual([
      [mergedWindowId({ ruleId: RULE, ruleVersion: 1, startMs: 0, chunk: 0 }), 0, 2, 2, TRACE],
      [mergedWindowId({ ruleId: RULE, ruleVersion: 1, startMs: 0, chunk: 1 }), 1, 2, 1, TRACE],
    ]);
    const head = `{"rule_id":"${RULE}","start_time":"1970-01-01T00:00:00.000Z","end_time":"1970-01-01T00:00:05.000Z","runs":`;
    expect(windows.map((w) => w.payload.toString())).toEqual([
      `${head}[{"id":"a"},{"id":"b"}]}`,
      `${head}[{"id":"c"}]}`,
    ]);
    expect(windows[0]).toMatchObject({
      ruleId: RULE,
      ruleVersion: 1,
      tenantId: TENANT,
      startTime: "1970-01-01T00:00:00.000Z",
      endTime: "1970-01-01T00:00:05.000Z",
    });
    // The window's trace context is forgotten with it.
    expect(a.traces.size).toBe(0);
  });

  it("keeps the trace context of a window's first part, not that of its re-emitted copy in the same batch", () => {
    const a = fresh();
    const original = part(0, 0, [run("a", 1)]);
    const copy = part(1, 0, [run("a", 1)]);
    const copyTrace = "00-1af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const { windows, duplicates } = foldBatch(
      a,
      [original, copy, wm(2, 0, 5000)],
      new Map([
        [original, TRACE],
        [copy, copyTrace],
      ]),
      1,
    );
    expect(duplicates.map((d) => d.reason)).toEqual(["part_seen"]);
    expect(windows.map((w) => w.traceparent)).toEqual([TRACE]);
  });

  it("skips what lies before the offset it goes on from, folds every part at an offset (a bundle's), and returns the parts that add nothing", () => {
    const a = startAssembly({ offset: 3, metadata: encodeAssembleCheckpoint({ floor: 5000, partitions: 1 }) }, 3);
    const folded = foldBatch(
      a,
      [
        part(2, 0, [run("x", 1)], 5000),
        part(3, 0, [run("a", 1)], 0),
        part(4, 0, [run("b", 5001)], 5000),
        part(4, 0, [run("b", 5001)], 5000),
        wm(5, 0, 10_000),
      ],
      new Map(),
      1,
    );
    expect(folded.duplicates.map((d) => [d.offset, d.reason])).toEqual([
      [3, "window_completed"],
      [4, "part_seen"],
    ]);
    expect(folded.windows.map((w) => w.payload.toString())).toEqual([
      expect.stringContaining('"runs":[{"id":"b"}]') as unknown,
    ]);
    expect(a.from).toBe(6);
  });

  it("commits at the first part of the oldest open window, or past the batch when none is open", () => {
    const a = fresh();
    foldBatch(a, [part(10, 0, [run("a", 1)], 0), part(11, 0, [run("b", 5001)], 5000), wm(12, 0, 5000)], new Map(), 1);
    expect(commitPoint(a.state, 14)).toEqual({
      offset: 11,
      metadata: encodeAssembleCheckpoint({ floor: 5000, partitions: 1 }),
    });
    foldBatch(a, [wm(14, 0, 10_000)], new Map(), undefined);
    expect(commitPoint(a.state, 20)).toEqual({
      offset: 20,
      metadata: encodeAssembleCheckpoint({ floor: 10_000, partitions: 1 }),
    });
    expect(commitPoint(createAssembleState(), 0).metadata).toBe('{"v":1,"m":null,"n":0}');
  });
});

describe("the windows consumer's assembly through restarts", () => {
  const rules: SimRule[] = [
    { ruleId: RULE, ruleVersion: 1, seconds: 1, maxRuns: 3 },
    { ruleId: "22222222-2222-4222-8222-222222222222", ruleVersion: 1, seconds: 5, maxRuns: 10 },
  ];

  it.each([1, 2, 3, 4, 5, 6, 7, 8].flatMap((seed) => [[seed, false] as const, [seed, true] as const]))(
    "seed %i (parts bundled: %s): restarting from any commit completes the same windows, each at least once",
    (seed, bundled) => {
      const random = mulberry32(seed);
      const { log, truth } = simulate(random, { rules, steps: 1500, created: [0, 0, 4000, 9000] });
      // The evaluators' next watermarks (a second later, as ticks keep them coming): a restart restores
      // every runs partition at the checkpoint's floor, so windows the log's last watermarks completed
      // before it complete again only at the next ones.
      const last = log.at(-1)!;
      const end = Math.max(...log.map(({ message: m }) => (m.kind === "watermark" ? m.streamTime : 0))) + 1000;
      const logged = [
        ...log.map((m) => m.message),
        ...Array.from({ length: last.known }, (_, p) => wm(log.length + p, p, end)),
      ];
      // Bundled: parts of one runs partition next to each other in the log share one message (its
      // offset), as the evaluator publishes a flush's parts for one windows partition.
      let offset = -1;
      const messages = logged.map((m, i) => {
        const before = logged[i - 1];
        const joins =
          bundled &&
          m.kind === "part" &&
          before?.kind === "part" &&
          before.runsPartition === m.runsPartition &&
          random() < 0.7;
        if (!joins) offset++;
        return { ...m, offset };
      });
      if (bundled) expect(logged.length - 1 - offset).toBeGreaterThan(10); // parts that share a message
      /**
       * Batches of 1–40 messages (index ranges, never splitting a bundle); the partition count fetched
       * after reading each is what its last message knew.
       */
      const batches: { from: number; to: number; known: number }[] = [];
      for (let from = 0; from < messages.length;) {
        let to = Math.min(messages.length, from + 1 + Math.floor(random() * 40));
        while (to < messages.length && messages[to]!.offset === messages[to - 1]!.offset) to++;
        batches.push({ from, to, known: log[to - 1]?.known ?? last.known });
        from = to;
      }
      const endOf = (b: { to: number }) => messages[b.to - 1]!.offset + 1;
      const foldFrom = (a: PartitionAssembly, b: { from: number; to: number; known: number }) => {
        const inputs = messages.slice(b.from, b.to);
        return foldBatch(a, inputs, new Map(), needsPartitionCount(a.state, inputs) ? b.known : undefined).windows;
      };

      const once = fresh();
      const completed = batches.flatMap((b) => foldFrom(once, b));
      const uninterrupted = bodies(completed);
      // Every window of the ground truth, holding exactly its runs: no part of a bundle was left out.
      const held = new Map<string, Set<string>>();
      for (const w of completed) {
        const key = `${w.ruleId}/${w.ruleVersion}/${Date.parse(w.startTime)}`;
        const ids = (JSON.parse(w.payload.toString()) as { runs: { id: string }[] }).runs.map((r) => r.id);
        held.set(key, new Set([...(held.get(key) ?? []), ...ids]));
      }
      expect(held).toEqual(truth);
      expect(new Set(uninterrupted).size).toBe(uninterrupted.length);
      expect(uninterrupted.length).toBeGreaterThan(20);

      // A restart after some batches: from the last commit, with its checkpoint (and the count, as loaded).
      const restarted: string[] = [];
      let a = fresh();
      let committed = { offset: -1, metadata: null as string | null };
      let restarts = 0;
      for (let i = 0; i < batches.length;) {
        const b = batches[i]!;
        restarted.push(...bodies(foldFrom(a, b)));
        committed = commitPoint(a.state, endOf(b));
        i++;
        if (random() < 0.15 && i < batches.length) {
          // Loaded as the consumer loads it: the partition count as the broker knows it then, and the
          // fetch moved back to the batch holding the committed offset (what precedes it there is skipped).
          restarts++;
          a = startAssembly(committed, messages[batches[i]!.from]!.offset);
          foldBatch(a, [], new Map(), b.known);
          if (a.phase === "seeking") i = batches.findIndex((x) => endOf(x) > committed.offset);
          a.phase = "active";
        }
      }
      expect(restarts).toBeGreaterThan(0);
      const missing = uninterrupted.filter((w) => !restarted.includes(w));
      const extra = restarted.filter((w) => !uninterrupted.includes(w));
      expect({ missing, extra }).toEqual({ missing: [], extra: [] });
      expect(new Set(restarted)).toEqual(new Set(uninterrupted));
    },
  );
});
