import { describe, expect, it } from "vitest";
import {
  createStreamState,
  decodeCheckpoint,
  encodeCheckpoint,
  decodeTraceSnapshot,
  encodeTraceSnapshot,
  fillRunBytes,
  finishRestore,
  isEmptySnapshot,
  restoreFromSnapshot,
  streamStep,
  takeTraceSnapshot,
  windowRefoldStep,
  type StreamInput,
  type TraceSpec,
  type WindowSpec,
} from "@runhooks/rules";

const TENANT = "33333333-3333-4333-8333-333333333333";
const window = (ruleId: string, seconds: number): WindowSpec => ({
  ruleId,
  ruleVersion: 1,
  tenantId: TENANT,
  seconds,
  maxRuns: 10,
});
const VIP: TraceSpec = { window: window("vip", 10), horizonMs: 5000, needsRoot: true, needsTree: false };
const TOOL: TraceSpec = { window: window("tool", 10), horizonMs: 3000, needsRoot: false, needsTree: true };
const bytes = (id: string) => new TextEncoder().encode(`{"id":"${id}"}`);

/** A run of trace `key` at `offset`: a candidate of `candidate`, satisfying `tree`'s tree filter, or the root. */
function run(
  offset: number,
  time: number,
  key: string,
  v: { candidate?: TraceSpec[]; tree?: TraceSpec[]; root?: boolean; id?: string },
): StreamInput {
  const specs = [...new Set([...(v.candidate ?? []), ...(v.tree ?? []), ...(v.root === undefined ? [] : [VIP, TOOL])])];
  const id = v.id ?? `run-${offset}`;
  return {
    kind: "run",
    offset,
    time,
    run: { runId: id, json: bytes(id) },
    matches: [],
    trace: {
      key,
      verdicts: specs.map((spec) => ({
        spec,
        candidate: v.candidate?.includes(spec) ?? false,
        tree: v.tree?.includes(spec) ?? false,
        root: v.root,
      })),
    },
  };
}

function stateAfter(inputs: readonly StreamInput[]) {
  const s = createStreamState(0);
  for (const i of inputs) streamStep(s, i);
  return s;
}

describe("trace snapshot, as tables", () => {
  const rows: {
    name: string;
    inputs: StreamInput[];
    traces: number;
    candidates: number;
    windows: number;
    needFrom?: number;
  }[] = [
    { name: "nothing open", inputs: [], traces: 0, candidates: 0, windows: 0 },
    {
      name: "a child waiting for its root",
      inputs: [run(0, 1000, "t/a", { candidate: [VIP] })],
      traces: 1,
      candidates: 1,
      windows: 0,
      needFrom: 0,
    },
    {
      name: "root read: its child joined a window, the root's fact is remembered",
      inputs: [run(0, 1000, "t/a", { candidate: [VIP] }), run(1, 1200, "t/a", { root: true })],
      traces: 1,
      candidates: 0,
      windows: 1,
      needFrom: 0,
    },
    {
      name: "two rules sharing a trace: one waits for the tree, one for the root",
      inputs: [run(3, 1000, "t/a", { candidate: [VIP, TOOL] }), run(4, 1100, "t/b", { tree: [TOOL] })],
      traces: 2,
      candidates: 2,
      windows: 0,
      needFrom: 3,
    },
    {
      name: "the horizon passed: nothing held",
      inputs: [run(0, 1000, "t/a", { candidate: [VIP] }), { kind: "time", offset: 1, time: 20_000 }],
      traces: 0,
      candidates: 0,
      windows: 0,
    },
  ];
  for (const row of rows)
    it(row.name, () => {
      const snap = takeTraceSnapshot(stateAfter(row.inputs), row.inputs.length);
      expect(snap.traces.length).toBe(row.traces);
      expect(snap.traces.reduce((n, t) => n + t.candidates.length, 0)).toBe(row.candidates);
      expect(snap.windows.length).toBe(row.windows);
      expect(snap.needFrom).toBe(row.needFrom);
      expect(isEmptySnapshot(snap)).toBe(row.traces + row.windows === 0);
      // Its encoding gives it back, whatever the chunk size.
      for (const size of [1, 7, 64, 1 << 20]) {
        const chunks = encodeTraceSnapshot(snap, size);
        for (const c of chunks) expect(new TextEncoder().encode(c).byteLength).toBeLessThanOrEqual(Math.max(size, 4));
        expect(decodeTraceSnapshot(chunks)).toEqual(snap);
      }
    });
});

describe("trace snapshot encoding", () => {
  const state = stateAfter([run(0, 1000, "t/é😀", { candidate: [VIP], id: "rün-😀" })]);
  const snap = takeTraceSnapshot(state, 1);

  it("never cuts a character: every chunk is valid UTF-8 and under the budget", () => {
    const chunks = encodeTraceSnapshot(snap, 5);
    for (const c of chunks) {
      const b = new TextEncoder().encode(c);
      expect(b.byteLength).toBeLessThanOrEqual(5);
      expect(new TextDecoder("utf-8", { fatal: true }).decode(b)).toBe(c);
    }
    expect(decodeTraceSnapshot(chunks)).toEqual(snap);
  });

  const bad: { name: string; chunks: string[] }[] = [
    { name: "a chunk missing", chunks: encodeTraceSnapshot(snap, 16).slice(1) },
    { name: "chunks out of order", chunks: encodeTraceSnapshot(snap, 16).reverse() },
    { name: "another version", chunks: [JSON.stringify({ v: 2, p: 1, s: 0, t: [] })] },
    { name: "not JSON", chunks: ["{"] },
  ];
  for (const row of bad) it(`refuses ${row.name}`, () => expect(decodeTraceSnapshot(row.chunks)).toBeUndefined());
});

describe("restore from a trace snapshot", () => {
  const inputs = [
    run(0, 1000, "t/a", { candidate: [VIP] }),
    run(1, 1100, "t/b", { candidate: [VIP] }),
    run(2, 1200, "t/b", { root: true }),
    run(3, 1300, "t/c", { candidate: [TOOL] }),
  ];
  const snap = decodeTraceSnapshot(encodeTraceSnapshot(takeTraceSnapshot(stateAfter(inputs), 4), 1 << 20))!;

  it("waits for the bytes of every run it names, and reports the ones never read", () => {
    const r = restoreFromSnapshot(0, snap);
    expect([...r.unread.keys()].sort()).toEqual([0, 1, 3]);
    windowRefoldStep(r, inputs[0]!);
    windowRefoldStep(r, inputs[1]!);
    expect(finishRestore(r)).toEqual({ missing: [3] });
  });

  const fills: { name: string; runId: string; json: Uint8Array; filled: boolean }[] = [
    { name: "the run named", runId: "run-3", json: bytes("run-3"), filled: true },
    { name: "another run at that offset", runId: "run-x", json: bytes("run-x"), filled: false },
    { name: "bytes of another length", runId: "run-3", json: bytes("run-33"), filled: false },
  ];
  for (const row of fills)
    it(`takes the bytes of ${row.name}: ${row.filled}`, () => {
      const r = restoreFromSnapshot(0, snap);
      fillRunBytes(r, 3, row.runId, row.json);
      expect(r.unread.has(3)).toBe(!row.filled);
    });

  it("then folds on as the uninterrupted state does", () => {
    const later = [
      run(4, 1400, "t/a", { root: true }),
      run(5, 1500, "t/c", { tree: [TOOL] }),
      { kind: "time", offset: 6, time: 30_000 } as StreamInput,
    ];
    const uninterrupted = stateAfter(inputs);
    const r = restoreFromSnapshot(0, snap);
    for (const i of inputs) windowRefoldStep(r, i);
    expect(finishRestore(r)).toBeUndefined();
    expect(r.state.traces.heldBytes).toBe(uninterrupted.traces.heldBytes);
    expect(r.state.fold.streamTime).toBe(uninterrupted.fold.streamTime);
    const expected = later.flatMap((i) => streamStep(uninterrupted, i));
    const got = later.flatMap((i) => streamStep(r.state, i));
    expect(got.map((p) => [p.ruleId, p.runs.map((x) => [x.offset, x.time])])).toEqual(
      expected.map((p) => [p.ruleId, p.runs.map((x) => [x.offset, x.time])]),
    );
    expect(got.flatMap((p) => p.runs.map((x) => x.offset))).toEqual([3, 1, 0]);
  });
});

describe("a checkpoint naming its trace snapshot", () => {
  const rows: { name: string; metadata: string; traces: { upTo: number; offsets: number[] } | undefined }[] = [
    { name: "none named: the horizon is refolded", metadata: '{"v":1,"s":5,"p":9}', traces: undefined },
    {
      name: "an empty snapshot (no chunks)",
      metadata: '{"v":1,"s":5,"p":9,"t":[9,[]]}',
      traces: { upTo: 9, offsets: [] },
    },
    {
      name: "an older snapshot, in two chunks",
      metadata: '{"v":1,"s":5,"p":9,"t":[7,[40,43]]}',
      traces: { upTo: 7, offsets: [40, 43] },
    },
    { name: "a reference that is not one: ignored", metadata: '{"v":1,"s":5,"p":9,"t":[7,[-1]]}', traces: undefined },
    { name: "a reference without offsets: ignored", metadata: '{"v":1,"s":5,"p":9,"t":[7]}', traces: undefined },
  ];
  for (const row of rows)
    it(row.name, () => {
      const c = decodeCheckpoint(row.metadata);
      expect(c).toEqual({ streamTime: 5, processedUpTo: 9, ...(row.traces ? { traces: row.traces } : {}) });
      if (row.traces !== undefined) expect(encodeCheckpoint(c!)).toBe(row.metadata);
    });
});
