import { describe, expect, it } from "vitest";
import {
  assembleStep,
  backfillEnd,
  backfillFloor,
  backfillRestartTime,
  backfillStep,
  backfillWindowId,
  createAssembleState,
  createBackfillFold,
  createStreamState,
  mergedWindowId,
  streamStep,
  type MergedChunk,
  type StreamInput,
  type WindowSpec,
} from "@runhooks/rules";
import { mulberry32 } from "../../../test/support/random.js";

const spec: WindowSpec = {
  ruleId: "11111111-1111-4111-8111-111111111111",
  ruleVersion: 3,
  tenantId: "22222222-2222-4222-8222-222222222222",
  seconds: 2,
  maxRuns: 4,
};
const PARTITIONS = 3;
const encoder = new TextEncoder();

interface Message {
  readonly partition: number;
  readonly input: StreamInput;
}

/** Each partition's log: runs (some matching, some retried), ticks, append times that may stall. */
function logs(seed: number, perPartition: number): StreamInput[][] {
  const random = mulberry32(seed);
  const out: StreamInput[][] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    const log: StreamInput[] = [];
    let time = 1_000_000 + Math.floor(random() * 500);
    const ids: string[] = [];
    for (let offset = 0; offset < perPartition; offset++) {
      time += Math.floor(random() * 250);
      const r = random();
      if (r < 0.1) {
        log.push({ kind: "time", offset, time });
        continue;
      }
      const runId = r < 0.15 && ids.length > 0 ? ids[ids.length - 1]! : `run-${p}-${offset}`;
      ids.push(runId);
      const matches = random() < 0.6 ? [spec] : [];
      const run = { runId, json: encoder.encode(JSON.stringify({ id: runId })) };
      log.push(matches.length > 0 ? { kind: "run", offset, time, run, matches } : { kind: "time", offset, time });
    }
    out.push(log);
  }
  return out;
}

/** One interleaving of the partitions' logs (each in its own order). */
function interleave(seed: number, partitions: readonly StreamInput[][]): Message[] {
  const random = mulberry32(seed);
  const at = partitions.map(() => 0);
  const out: Message[] = [];
  for (;;) {
    const open = at.flatMap((i, p) => (i < partitions[p]!.length ? [p] : []));
    if (open.length === 0) return out;
    const p = open[Math.floor(random() * open.length)]!;
    out.push({ partition: p, input: partitions[p]![at[p]!++]! });
  }
}

const comparable = (chunks: readonly MergedChunk[]) =>
  chunks.map((c) => ({
    id: c.windowId,
    start: c.startMs,
    index: c.chunkIndex,
    count: c.chunkCount,
    runs: c.runs.map((r) => `${r.runId}@${r.time}`),
  }));

/** A backfill of the whole range, read in the given interleaving. */
function uninterrupted(messages: readonly Message[], partitions: readonly StreamInput[][]): MergedChunk[] {
  const f = createBackfillFold({ partitions: PARTITIONS });
  const out: MergedChunk[] = [];
  for (const m of messages) out.push(...backfillStep(f, m.partition, m.input));
  for (let p = 0; p < PARTITIONS; p++) out.push(...backfillEnd(f, p, partitions[p]!.length));
  return out;
}

describe("backfill fold", () => {
  const partitions = logs(7, 400);
  const messages = interleave(11, partitions);
  const expected = uninterrupted(messages, partitions);

  it("makes the windows the evaluators' folds and the assembler make, under backfill ids", () => {
    expect(expected.length).toBeGreaterThan(20);
    // The live path: each partition folded alone, its parts and watermarks then assembled.
    const assemble = createAssembleState();
    assembleStep(assemble, { kind: "partitions", count: PARTITIONS });
    const live: MergedChunk[] = [];
    for (let p = 0; p < PARTITIONS; p++) {
      const s = createStreamState(p);
      const parts = [
        ...partitions[p]!.flatMap((input) => [...streamStep(s, input)]),
        ...streamStep(s, { kind: "time", offset: partitions[p]!.length, time: Number.POSITIVE_INFINITY }),
      ];
      for (const part of parts)
        assembleStep(assemble, { kind: "part", offset: 0, runsPartition: part.partition, ...part });
    }
    for (let p = 0; p < PARTITIONS; p++)
      for (const o of assembleStep(assemble, {
        kind: "watermark",
        offset: 0,
        runsPartition: p,
        streamTime: Number.POSITIVE_INFINITY,
      }))
        if (o.kind === "chunk") live.push(o);
    expect(live.map((c) => c.windowId)).toEqual(live.map((c) => mergedWindowId({ ...c, chunk: c.chunkIndex })));
    const asBackfill = live.map((c) => ({ ...c, windowId: backfillWindowId({ ...c, chunk: c.chunkIndex }) }));
    expect(comparable(expected)).toEqual(comparable(asBackfill));
    expect(new Set(expected.map((c) => c.windowId)).size).toBe(expected.length);
    for (const c of expected) expect(c.windowId).not.toBe(mergedWindowId({ ...c, chunk: c.chunkIndex }));
  });

  it("does not depend on the order the partitions are read in", () => {
    expect(comparable(uninterrupted(interleave(99, partitions), partitions))).toEqual(comparable(expected));
  });

  it("resumed from its checkpoint at any cut, completes what remained exactly", () => {
    for (let cut = 0; cut <= messages.length; cut += 7) {
      const f = createBackfillFold({ partitions: PARTITIONS });
      const before: MergedChunk[] = [];
      for (const m of messages.slice(0, cut)) before.push(...backfillStep(f, m.partition, m.input));
      const floor = backfillFloor(f);
      // What was stored at the checkpoint: every window ending at or before M.
      const stored = before.filter((c) => c.endMs <= floor);
      const resumed = createBackfillFold({ partitions: PARTITIONS, floor });
      const restart = backfillRestartTime(floor, spec.seconds * 1000, 0);
      const after: MergedChunk[] = [];
      const tail = messages.filter((m) => m.input.time >= restart);
      for (const m of tail) after.push(...backfillStep(resumed, m.partition, m.input));
      for (let p = 0; p < PARTITIONS; p++) after.push(...backfillEnd(resumed, p, partitions[p]!.length));
      expect(comparable([...stored, ...after]), `cut ${cut}`).toEqual(comparable(expected));
    }
  });
});
