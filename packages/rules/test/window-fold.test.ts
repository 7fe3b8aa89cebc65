import { describe, expect, it } from "vitest";
import {
  MAX_WINDOW_BYTES,
  createFoldState,
  createStreamState,
  decodeTraceSnapshot,
  encodeTraceSnapshot,
  finishRestore,
  restoreFromSnapshot,
  streamPrefixStep,
  takeTraceSnapshot,
  windowRefoldStep,
  streamStep,
  type StreamInput,
  type TraceSpec,
  type TraceVerdict,
  foldStep,
  nextCloseTime,
  oldestOpenOffset,
  windowId,
  type ClosedPart,
  type FoldInput,
  type WindowSpec,
} from "@runhooks/rules";
import { mulberry32 } from "../../../test/support/random.js";

const RULE_A = "11111111-1111-4111-8111-111111111111";
const RULE_B = "22222222-2222-4222-8222-222222222222";
const RULE_C = "44444444-4444-4444-8444-444444444444";
const RULE_D = "55555555-5555-4555-8555-555555555555";
const RULE_E = "66666666-6666-4666-8666-666666666666";
const TENANT = "33333333-3333-4333-8333-333333333333";

const spec = (ruleId: string, seconds: number, maxRuns = 100, ruleVersion = 1): WindowSpec => ({
  ruleId,
  ruleVersion,
  tenantId: TENANT,
  seconds,
  maxRuns,
});
const A5 = spec(RULE_A, 5);

const run = (offset: number, time: number, ...matches: WindowSpec[]): FoldInput => ({
  kind: "run",
  offset,
  time,
  run: { runId: `run-${offset}`, json: new TextEncoder().encode(`{"id":"run-${offset}"}`) },
  matches,
});
const tick = (offset: number, time: number): FoldInput => ({ kind: "time", offset, time });
/** The run first read at offset `of`, appended again at `offset` (a retried produce: same id, same bytes). */
const copy = (offset: number, of: number, time: number, ...matches: WindowSpec[]): FoldInput => ({
  kind: "run",
  offset,
  time,
  run: { runId: `run-${of}`, json: new TextEncoder().encode(`{"id":"run-${of}"}`) },
  matches,
});

/** The fields a table row checks: which rule, which bounds, which runs, why and when it closed. */
function summary(w: ClosedPart) {
  return {
    rule: w.ruleId === RULE_A ? "A" : "B",
    v: w.ruleVersion,
    piece: w.piece,
    bounds: [w.startMs, w.endMs],
    runs: w.runs.map((r) => r.offset),
    reason: w.reason,
    closedAt: w.closedAt,
  };
}

/** Folds `inputs` in one partition; `maxBytes` small enough for a few runs of `run()` splits pieces in tables. */
function foldAll(inputs: readonly FoldInput[], partition = 0, maxBytes?: number): ClosedPart[] {
  const state = createFoldState(partition, maxBytes);
  return inputs.flatMap((i) => foldStep(state, i));
}

/** Room for two runs of `run()` (`{"id":"run-N"}` and a comma: 15 bytes each) in a piece, not three. */
const TWO_RUNS = 40;

describe("window fold, as tables", () => {
  const cases: { name: string; inputs: FoldInput[]; maxBytes?: number; expected: ReturnType<typeof summary>[] }[] = [
    {
      name: "a window closes when stream time reaches its end, not before",
      inputs: [run(0, 1000, A5), run(1, 4999, A5), tick(2, 4999), tick(3, 5000)],
      expected: [{ rule: "A", v: 1, piece: 0, bounds: [0, 5000], runs: [0, 1], reason: "time", closedAt: 3 }],
    },
    {
      name: "a run at the boundary opens the next aligned window",
      inputs: [run(0, 4999, A5), run(1, 5000, A5), tick(2, 10_000)],
      expected: [
        { rule: "A", v: 1, piece: 0, bounds: [0, 5000], runs: [0], reason: "time", closedAt: 1 },
        { rule: "A", v: 1, piece: 0, bounds: [5000, 10_000], runs: [1], reason: "time", closedAt: 2 },
      ],
    },
    {
      name: "max_runs closes nothing: a window holds every run until its end (the assembler cuts it)",
      inputs: [
        run(0, 100, spec(RULE_A, 5, 2)),
        run(1, 200, spec(RULE_A, 5, 2)),
        run(2, 300, spec(RULE_A, 5, 2)),
        tick(3, 5000),
      ],
      expected: [{ rule: "A", v: 1, piece: 0, bounds: [0, 5000], runs: [0, 1, 2], reason: "time", closedAt: 3 }],
    },
    {
      name: "a run that would pass the byte budget closes the piece; the next piece keeps the bounds",
      inputs: [run(0, 100, A5), run(1, 200, A5), run(2, 300, A5), tick(3, 4999), tick(4, 5000)],
      maxBytes: TWO_RUNS,
      expected: [
        { rule: "A", v: 1, piece: 0, bounds: [0, 5000], runs: [0, 1], reason: "max_bytes", closedAt: 2 },
        { rule: "A", v: 1, piece: 1, bounds: [0, 5000], runs: [2], reason: "time", closedAt: 4 },
      ],
    },
    {
      name: "piece numbering restarts in the next window",
      inputs: [
        run(0, 100, spec(RULE_A, 1)),
        run(1, 200, spec(RULE_A, 1)),
        run(2, 300, spec(RULE_A, 1)),
        run(3, 1100, spec(RULE_A, 1)),
        tick(4, 2000),
      ],
      maxBytes: TWO_RUNS,
      expected: [
        { rule: "A", v: 1, piece: 0, bounds: [0, 1000], runs: [0, 1], reason: "max_bytes", closedAt: 2 },
        { rule: "A", v: 1, piece: 1, bounds: [0, 1000], runs: [2], reason: "time", closedAt: 3 },
        { rule: "A", v: 1, piece: 0, bounds: [1000, 2000], runs: [3], reason: "time", closedAt: 4 },
      ],
    },
    {
      name: "a message older than stream time counts as now (the broker clock stepped back)",
      inputs: [run(0, 4000, A5), run(1, 6000, A5), run(2, 3000, A5), tick(3, 10_000)],
      expected: [
        { rule: "A", v: 1, piece: 0, bounds: [0, 5000], runs: [0], reason: "time", closedAt: 1 },
        { rule: "A", v: 1, piece: 0, bounds: [5000, 10_000], runs: [1, 2], reason: "time", closedAt: 3 },
      ],
    },
    {
      name: "one run can join several rules' windows; closes come in end order",
      inputs: [run(0, 500, spec(RULE_B, 2), A5), run(1, 2500, A5), tick(2, 5000)],
      expected: [
        { rule: "B", v: 1, piece: 0, bounds: [0, 2000], runs: [0], reason: "time", closedAt: 1 },
        { rule: "A", v: 1, piece: 0, bounds: [0, 5000], runs: [0, 1], reason: "time", closedAt: 2 },
      ],
    },
    {
      name: "two versions of a rule keep separate windows with the same bounds",
      inputs: [run(0, 100, spec(RULE_A, 5, 100, 1)), run(1, 200, spec(RULE_A, 5, 100, 2)), tick(2, 5000)],
      expected: [
        { rule: "A", v: 1, piece: 0, bounds: [0, 5000], runs: [0], reason: "time", closedAt: 2 },
        { rule: "A", v: 2, piece: 0, bounds: [0, 5000], runs: [1], reason: "time", closedAt: 2 },
      ],
    },
    {
      name: "a copy of a run already in the window is left out (the log is at least once)",
      inputs: [
        run(0, 100, A5),
        copy(1, 0, 200, A5),
        run(2, 300, A5),
        copy(3, 2, 400, A5, spec(RULE_B, 5)),
        tick(4, 5000),
      ],
      expected: [
        { rule: "A", v: 1, piece: 0, bounds: [0, 5000], runs: [0, 2], reason: "time", closedAt: 4 },
        { rule: "B", v: 1, piece: 0, bounds: [0, 5000], runs: [3], reason: "time", closedAt: 4 },
      ],
    },
    {
      name: "a left-out copy takes no room in the piece",
      inputs: [run(0, 100, A5), copy(1, 0, 200, A5), run(2, 300, A5), tick(3, 5000)],
      maxBytes: TWO_RUNS,
      expected: [{ rule: "A", v: 1, piece: 0, bounds: [0, 5000], runs: [0, 2], reason: "time", closedAt: 3 }],
    },
    {
      name: "a copy that falls in a later window joins it (each window holds a run once)",
      inputs: [run(0, 4900, A5), copy(1, 0, 5100, A5), tick(2, 10_000)],
      expected: [
        { rule: "A", v: 1, piece: 0, bounds: [0, 5000], runs: [0], reason: "time", closedAt: 1 },
        { rule: "A", v: 1, piece: 0, bounds: [5000, 10_000], runs: [1], reason: "time", closedAt: 2 },
      ],
    },
    {
      name: "runs that match nothing and ticks only move time",
      inputs: [run(0, 100), tick(1, 7000), run(2, 7100, A5), tick(3, 9999)],
      expected: [],
    },
  ];

  it.each(cases)("$name", ({ inputs, maxBytes, expected }) => {
    expect(foldAll(inputs, 0, maxBytes).map(summary)).toEqual(expected);
  });
});

describe("window fold, properties", () => {
  it("splits a piece before it would pass the byte budget of a Kafka message", () => {
    const big = new Uint8Array(300 * 1024).fill(0x78);
    const state = createFoldState(0);
    const input = (offset: number): FoldInput => ({
      kind: "run",
      offset,
      time: 10,
      run: { runId: `r${offset}`, json: big },
      matches: [A5],
    });
    const closed = [0, 1, 2, 3].flatMap((o) => foldStep(state, input(o)));
    expect(closed.map((w) => [w.piece, w.reason, w.runs.length])).toEqual([[0, "max_bytes", 2]]);
    expect(closed.every((w) => w.runs.reduce((n, r) => n + r.json.length, 0) <= MAX_WINDOW_BYTES)).toBe(true);
    expect(foldStep(state, tick(4, 5000)).map((w) => [w.piece, w.runs.length])).toEqual([[1, 2]]);
  });

  it("gives each run the stream time it was read at, and each part its rule version's max_runs", () => {
    // The broker clock stepped back at offset 1: that run counts as read at 4000.
    const [part] = foldAll([
      run(0, 4000, spec(RULE_A, 5, 7)),
      run(1, 3000, spec(RULE_A, 5, 7)),
      run(2, 4500, spec(RULE_A, 5, 7)),
      tick(3, 5000),
    ]);
    expect(part?.runs.map((r) => [r.offset, r.time])).toEqual([
      [0, 4000],
      [1, 4000],
      [2, 4500],
    ]);
    expect(part?.maxRuns).toBe(7);
  });

  it("has closed every part of a window with end <= S once stream time reaches S (what a watermark promises)", () => {
    const state = createFoldState(0, TWO_RUNS);
    const closedEnds: number[] = [];
    for (const input of [
      run(0, 100, A5),
      run(1, 900, spec(RULE_B, 1)),
      run(2, 1200, A5),
      run(3, 4000, A5),
      tick(4, 5000),
    ]) {
      for (const p of foldStep(state, input)) closedEnds.push(p.endMs);
      // Nothing still open (nor a piece still to come) ends at or before the stream time.
      for (const w of state.open.values()) expect(w.endMs).toBeGreaterThan(state.streamTime);
    }
    expect(closedEnds).toEqual([1000, 5000, 5000]);
  });

  it("knows the oldest offset a restart must keep, and when the next close is due", () => {
    const state = createFoldState(0);
    expect(oldestOpenOffset(state)).toBeUndefined();
    foldStep(state, run(10, 1000, spec(RULE_B, 2)));
    foldStep(state, run(11, 1500, A5));
    expect(oldestOpenOffset(state)).toBe(10);
    expect(nextCloseTime(state)).toBe(2000);
    foldStep(state, tick(12, 2000));
    expect(oldestOpenOffset(state)).toBe(11);
    expect(nextCloseTime(state)).toBe(5000);
  });

  it("gives every part a deterministic id from rule, version, partition, start and piece", () => {
    const a = foldAll([run(0, 100, A5), tick(1, 5000)], 3);
    const b = foldAll([run(7, 200, A5), tick(9, 6000)], 3);
    expect(a[0]?.partId).toBe(b[0]?.partId);
    expect(a[0]?.partId).toBe(windowId({ ruleId: RULE_A, ruleVersion: 1, partition: 3, startMs: 0, chunk: 0 }));
    // Known answer (Python: uuid.uuid5(NS, "<rule>/1/0/0/0")): the namespace and name format must never
    // change, or every window id would.
    expect(windowId({ ruleId: RULE_A, ruleVersion: 1, partition: 0, startMs: 0, chunk: 0 })).toBe(
      "32c9b884-1216-5fa2-a077-ba5627c8280c",
    );
    const others = [
      windowId({ ruleId: RULE_B, ruleVersion: 1, partition: 3, startMs: 0, chunk: 0 }),
      windowId({ ruleId: RULE_A, ruleVersion: 2, partition: 3, startMs: 0, chunk: 0 }),
      windowId({ ruleId: RULE_A, ruleVersion: 1, partition: 4, startMs: 0, chunk: 0 }),
      windowId({ ruleId: RULE_A, ruleVersion: 1, partition: 3, startMs: 5000, chunk: 0 }),
      windowId({ ruleId: RULE_A, ruleVersion: 1, partition: 3, startMs: 0, chunk: 1 }),
    ];
    expect(new Set([a[0]?.partId, ...others]).size).toBe(6);
  });
});

describe("restart from a checkpoint", () => {
  // The property the evaluator's crash test proves at scale, here over every cut point of a stream:
  // fold to a cut P, keep its checkpoint (stream time S), start over from the first message at or after
  // S - longest window, suppress what closed below P, continue. The union must equal one uninterrupted fold.
  const random = mulberry32(42);
  const specs = [spec(RULE_A, 2, 3), spec(RULE_B, 5, 4), spec(RULE_A, 2, 3, 2)];
  const longestMs = 5000;
  /** Three runs of `run()` (`{"id":"run-123"}` and a comma) to a piece: windows split often. */
  const maxBytes = 60;
  const inputs: FoldInput[] = [];
  let time = 0;
  for (let offset = 0; offset < 400; offset++) {
    time += Math.floor(random() * 400) - 40; // mostly forward, sometimes a step back
    if (random() < 0.15) {
      inputs.push(tick(offset, time));
    } else {
      const matches = specs.filter(() => random() < 0.4);
      inputs.push(run(offset, time, ...matches));
    }
  }
  // Runs' bytes as text: deep equality walks a Uint8Array element by element, a string at once.
  const comparable = (parts: ClosedPart[]) =>
    parts.map((w) => ({ ...w, runs: w.runs.map((r) => ({ ...r, json: new TextDecoder().decode(r.json) })) }));
  const reference = foldAll(inputs, 0, maxBytes);
  const expected = comparable(reference);

  it("the stream is a real test: windows close on time and split on size, runs carry clamped times", () => {
    expect(new Set(reference.map((w) => w.reason))).toEqual(new Set(["time", "max_bytes"]));
    expect(reference.filter((w) => w.piece >= 2).length).toBeGreaterThan(0);
    expect(reference.length).toBeGreaterThan(50);
    expect(reference.some((w) => w.runs.some((r) => r.time > inputs[r.offset]!.time))).toBe(true);
  });

  it("restarting at any offset changes nothing", () => {
    for (let cut = 1; cut < inputs.length; cut++) expect(comparable(resumeAt(cut)), `cut at ${cut}`).toEqual(expected);
  }, 30_000); // 400 refolds: seconds of CPU on a busy machine

  function resumeAt(cut: number): ClosedPart[] {
    const before = createFoldState(0, maxBytes);
    const emitted = inputs.slice(0, cut).flatMap((i) => foldStep(before, i));
    const resumeTime = before.streamTime - longestMs;
    const from = inputs.findIndex((i) => i.time >= resumeTime);
    const after = createFoldState(0, maxBytes);
    for (const input of inputs.slice(from)) {
      for (const w of foldStep(after, input)) if (w.closedAt >= cut) emitted.push(w);
    }
    return emitted;
  }
});

describe("restart from a checkpoint, with trace-aware rules", () => {
  // The same property with the trace fold in front: candidates wait for their traces and join windows
  // later, facts are remembered for a horizon. A refold from S - longest window - 2 × longest horizon,
  // suppressing what closed below the cut, must give exactly the uninterrupted fold's parts.
  const random = mulberry32(7);
  const plain = [spec(RULE_A, 2, 3), spec(RULE_B, 5, 4)];
  const traced: TraceSpec[] = [
    { window: spec(RULE_C, 2, 5), horizonMs: 1500, needsRoot: true, needsTree: false },
    { window: spec(RULE_D, 5, 5), horizonMs: 3000, needsRoot: false, needsTree: true },
    { window: spec(RULE_E, 1, 5), horizonMs: 1000, needsRoot: true, needsTree: true },
  ];
  const longestMs = 5000;
  const longestHorizonMs = 3000;
  const maxBytes = 60;
  const inputs: StreamInput[] = [];
  let time = 0;
  let next = 0;
  const pool = Array.from({ length: 10 }, () => `trace-${next++}`);
  // Copies of earlier runs (a retried produce), drawn from a generator of their own: a restored window
  // must leave a copy of a run it holds out, as the uninterrupted fold does.
  const copies = mulberry32(8);
  for (let n = 0; n < 500; n++) {
    const offset = inputs.length;
    time += Math.floor(random() * 300) - 30;
    if (random() < 0.12) {
      inputs.push(tick(offset, time));
      continue;
    }
    if (copies() < 0.1) {
      const earlier = inputs[Math.floor(copies() * offset)]!;
      if (earlier.kind === "run") inputs.push({ ...earlier, offset: inputs.length, time });
    }
    const slot = Math.floor(random() * pool.length);
    const trace = pool[slot]!;
    const isRoot = random() < 0.12;
    const verdicts: TraceVerdict[] = [];
    const rootPasses = random() < 0.7;
    for (const s of traced) {
      const candidate = random() < 0.35;
      const tree = random() < 0.15;
      if (candidate || tree || isRoot)
        verdicts.push({ spec: s, candidate, tree, root: isRoot ? rootPasses : undefined });
    }
    const base = run(inputs.length, time, ...plain.filter(() => random() < 0.3));
    inputs.push({ ...(base as Extract<FoldInput, { kind: "run" }>), trace: { key: `t/${trace}`, verdicts } });
    // A trace usually ends with its root; sometimes a late child follows it.
    if (isRoot && random() < 0.8) pool[slot] = `trace-${next++}`;
  }
  const comparable = (parts: ClosedPart[]) =>
    parts.map((w) => ({ ...w, runs: w.runs.map((r) => ({ ...r, json: new TextDecoder().decode(r.json) })) }));
  const streamAll = (from: readonly StreamInput[]) => {
    const state = createStreamState(0, maxBytes);
    return from.flatMap((i) => streamStep(state, i));
  };
  const reference = streamAll(inputs);
  const expected = comparable(reference);

  it("the stream is a real test: candidates join later than they were read, in windows of every rule", () => {
    const late = reference.flatMap((w) => w.runs.filter((r) => r.time > inputs[r.offset]!.time + 300));
    expect(late.length).toBeGreaterThan(20);
    expect(new Set(reference.map((w) => w.ruleId))).toEqual(new Set([RULE_A, RULE_B, RULE_C, RULE_D, RULE_E]));
    expect(new Set(reference.map((w) => w.reason))).toEqual(new Set(["time", "max_bytes"]));
  });

  function resumeAt(cut: number, refoldMs: number): ClosedPart[] {
    const before = createStreamState(0, maxBytes);
    const emitted = inputs.slice(0, cut).flatMap((i) => streamStep(before, i));
    const resumeTime = before.fold.streamTime - refoldMs;
    const from = inputs.findIndex((i) => i.time >= resumeTime);
    const after = createStreamState(0, maxBytes);
    for (const input of inputs.slice(from)) {
      for (const w of streamStep(after, input)) if (w.closedAt >= cut) emitted.push(w);
    }
    return emitted;
  }

  it("restarting at any offset changes nothing", () => {
    const refoldMs = longestMs + 2 * longestHorizonMs;
    for (let cut = 1; cut < inputs.length; cut++)
      expect(comparable(resumeAt(cut, refoldMs)), `cut at ${cut}`).toEqual(expected);
  }, 60_000);

  /** The evaluator's protocol: before S - W (and below the cut) only the trace fold, plain matches unknown. */
  function resumeWithPrefixAt(cut: number): { emitted: ClosedPart[]; prefix: number; refolded: number } {
    const before = createStreamState(0, maxBytes);
    const emitted = inputs.slice(0, cut).flatMap((i) => streamStep(before, i));
    const windowsFrom = before.fold.streamTime - longestMs;
    const from = inputs.findIndex((i) => i.time >= windowsFrom - 2 * longestHorizonMs);
    const after = createStreamState(0, maxBytes);
    let prefix = 0;
    for (const input of inputs.slice(from)) {
      if (input.offset < cut && Math.max(after.fold.streamTime, input.time) < windowsFrom) {
        prefix++;
        streamPrefixStep(after, input.kind === "run" ? { ...input, matches: [] } : input);
        continue;
      }
      for (const w of streamStep(after, input)) if (w.closedAt >= cut) emitted.push(w);
    }
    return { emitted, prefix, refolded: Math.max(0, cut - from) };
  }

  it("restarting at any offset with a trace prefix (only the trace fold before S - W) changes nothing", () => {
    let prefix = 0;
    let refolded = 0;
    for (let cut = 1; cut < inputs.length; cut++) {
      const r = resumeWithPrefixAt(cut);
      prefix += r.prefix;
      refolded += r.refolded;
      expect(comparable(r.emitted), `cut at ${cut}`).toEqual(expected);
    }
    // A real test: most of what a refold reads again below the cut is prefix.
    expect(prefix / refolded).toBeGreaterThan(0.5);
  }, 60_000);

  /**
   * The evaluator's protocol with a trace snapshot: take the open traces and joined windows at the cut
   * (through their encoding, in small chunks), restore them, refold only the window fold from the
   * lower of S - W and the lowest offset the snapshot names, then continue whole from the cut.
   */
  const codec = {
    encode: (json: Uint8Array) => Buffer.from(json).toString("base64"),
    decode: (text: string) => new Uint8Array(Buffer.from(text, "base64")),
  };
  function resumeFromSnapshotAt(
    cut: number,
    held: boolean,
  ): { emitted: ClosedPart[]; refolded: number; chunks: number } {
    const before = createStreamState(0, maxBytes);
    const emitted = inputs.slice(0, cut).flatMap((i) => streamStep(before, i));
    const chunks = encodeTraceSnapshot(takeTraceSnapshot(before, cut, held ? codec : undefined), 200);
    const snapshot = decodeTraceSnapshot(chunks)!;
    const windowsFrom = snapshot.streamTime - longestMs;
    const atTime = inputs.findIndex((i) => i.time >= windowsFrom);
    const from = Math.min(atTime < 0 ? cut : atTime, snapshot.needFrom ?? cut, cut);
    const r = restoreFromSnapshot(0, snapshot, maxBytes, undefined, codec);
    for (const input of inputs.slice(from, cut))
      for (const w of windowRefoldStep(r, input)) expect(w.closedAt).toBeLessThan(cut);
    expect(finishRestore(r), `cut at ${cut}`).toBeUndefined();
    for (const input of inputs.slice(cut)) emitted.push(...streamStep(r.state, input));
    return { emitted, refolded: cut - from, chunks: chunks.length };
  }

  it("restarting from a trace snapshot at any offset changes nothing, and refolds less than the trace prefix", () => {
    let refolded = 0;
    let refoldedHeld = 0;
    let refoldedWithPrefix = 0;
    let chunked = 0;
    for (let cut = 1; cut < inputs.length; cut++) {
      const r = resumeFromSnapshotAt(cut, false);
      const h = resumeFromSnapshotAt(cut, true);
      refolded += r.refolded;
      refoldedHeld += h.refolded;
      refoldedWithPrefix += resumeWithPrefixAt(cut).refolded;
      if (r.chunks > 1) chunked++;
      expect(comparable(r.emitted), `cut at ${cut}`).toEqual(expected);
      expect(comparable(h.emitted), `cut at ${cut}, old runs held`).toEqual(expected);
    }
    // Real tests: snapshots span several chunks, a restart reads back less than 2H + W, and less
    // again when the snapshot holds the runs read before every open plain window.
    expect(chunked).toBeGreaterThan(100);
    expect(refolded / refoldedWithPrefix).toBeLessThan(0.7);
    expect(refoldedHeld).toBeLessThan(refolded);
  }, 60_000);

  it("one horizon back is not enough: a candidate decided at once on a fact older than the refold is re-decided later", () => {
    const refoldMs = longestMs + longestHorizonMs;
    let differing = 0;
    for (let cut = 1; cut < inputs.length; cut++)
      if (JSON.stringify(comparable(resumeAt(cut, refoldMs))) !== JSON.stringify(expected)) differing++;
    expect(differing).toBeGreaterThan(0);
  }, 60_000);
});

describe("duplicate checks only for runs that may be copies", () => {
  // The fold asks windows whether they hold a run only when its filter of held ids says maybe. Against
  // a fold whose filter says maybe for every run (every join checked), over enough runs to fill and
  // rebuild the filter several times, with copies near and far and pieces closing on size.
  const random = mulberry32(11);
  const specs = [spec(RULE_A, 1), spec(RULE_B, 5), spec(RULE_C, 60), spec(RULE_D, 2)];
  const inputs: FoldInput[] = [];
  let time = 0;
  for (let offset = 0; offset < 30_000; offset++) {
    time += Math.floor(random() * 20);
    const matches = specs.filter(() => random() < 0.5);
    if (random() < 0.03) inputs.push(tick(offset, time));
    else if (offset > 0 && random() < 0.08) {
      // A copy of a recent run, or of one read long ago (its window may be closed or still open).
      const back = random() < 0.7 ? 1 + Math.floor(random() * 50) : 1 + Math.floor(random() * offset);
      inputs.push(copy(offset, Math.max(0, offset - back), time, ...matches));
    } else inputs.push(run(offset, time, ...matches));
  }
  inputs.push(tick(inputs.length, time + 120_000));
  const comparable = (parts: ClosedPart[]) =>
    parts.map((p) => ({ id: p.partId, runs: p.runs.map((r) => r.offset), reason: p.reason, at: p.closedAt }));

  function checkedFold(maxBytes: number) {
    const checked = createFoldState(0, maxBytes);
    checked.held = {
      bits: new Uint32Array(1 << 11).fill(0xffffffff),
      mask: (1 << 16) - 1,
      added: 0,
      limit: Infinity,
    };
    return inputs.flatMap((i) => foldStep(checked, i));
  }

  it("with the smallest filter, saturates while the windows hold many ids and recovers as they close", () => {
    // Pieces large enough that a minute's window holds thousands of runs.
    const expected = checkedFold(1 << 20);
    const filtered = createFoldState(0, 1 << 20, 1 << 16);
    let saturations = 0;
    let recoveries = 0;
    const actual: ClosedPart[] = [];
    for (const i of inputs) {
      const was = filtered.held.limit === Infinity;
      actual.push(...foldStep(filtered, i));
      const is = filtered.held.limit === Infinity;
      if (is && !was) saturations++;
      if (was && !is) recoveries++;
    }
    expect(comparable(actual)).toEqual(comparable(expected));
    expect(saturations).toBeGreaterThan(0);
    expect(recoveries).toBeGreaterThan(0);
    // Bounded: never more bits than it was allowed.
    expect(filtered.held.bits.length * 32).toBeLessThanOrEqual(1 << 16);
  });

  it("puts a run given the same rule twice in one step in its window once", () => {
    const parts = foldAll([run(0, 100, A5, A5, spec(RULE_B, 5), A5), tick(1, 5000)]);
    expect(parts.map((p) => [p.ruleId === RULE_A ? "A" : "B", p.runs.map((r) => r.offset)])).toEqual([
      ["A", [0]],
      ["B", [0]],
    ]);
  });

  it("leaves out exactly the copies a fold checking every window leaves out", () => {
    const expected = checkedFold(400);
    const filtered = createFoldState(0, 400);
    let rebuilds = 0;
    const actual: ClosedPart[] = [];
    for (const i of inputs) {
      const before = filtered.held;
      actual.push(...foldStep(filtered, i));
      if (filtered.held !== before) rebuilds++;
    }
    expect(comparable(actual)).toEqual(comparable(expected));
    // Real tests: the filter was rebuilt, copies were left out, and pieces closed on size.
    expect(rebuilds).toBeGreaterThan(2);
    const kept = expected.reduce((n, p) => n + p.runs.length, 0);
    const joins = inputs.reduce((n, i) => n + (i.kind === "run" ? i.matches.length : 0), 0);
    expect(joins - kept).toBeGreaterThan(500);
    expect(expected.some((p) => p.reason === "max_bytes")).toBe(true);
  });
});
