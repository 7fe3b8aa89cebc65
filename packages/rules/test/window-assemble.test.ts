import { describe, expect, it } from "vitest";
import {
  assembleCheckpoint,
  assembleCommitOffset,
  assembleStep,
  createAssembleState,
  decodeAssembleCheckpoint,
  encodeAssembleCheckpoint,
  mergedWindowId,
  nextCompletionEnd,
  restoreAssembleState,
  windowId,
  type AssembleInput,
  type AssembleOutcome,
  type AssembleState,
  type PartRun,
} from "@runhooks/rules";

const RULE_A = "11111111-1111-4111-8111-111111111111";
const RULE_B = "22222222-2222-4222-8222-222222222222";
const TENANT = "33333333-3333-4333-8333-333333333333";

const encoder = new TextEncoder();
/** A run `id` read at stream time `time`: written `id@time` in the tables. */
const r = (id: string, time: number): PartRun => ({ runId: id, json: encoder.encode(`{"id":"${id}"}`), time });
const runs = (prefix: string, count: number, time: (i: number) => number): PartRun[] =>
  Array.from({ length: count }, (_, i) => r(`${prefix}${i}`, time(i)));

interface PartOptions {
  readonly p: number;
  readonly runs: readonly PartRun[];
  readonly rule?: string;
  readonly v?: number;
  readonly piece?: number;
  readonly start?: number;
  readonly seconds?: number;
  readonly maxRuns?: number;
}
/** A part as an evaluator publishes it: its id is the per-partition window id of its piece. */
function part(offset: number, o: PartOptions): AssembleInput {
  const ruleId = o.rule ?? RULE_A;
  const ruleVersion = o.v ?? 1;
  const startMs = o.start ?? 0;
  const piece = o.piece ?? 0;
  return {
    kind: "part",
    offset,
    partId: windowId({ ruleId, ruleVersion, partition: o.p, startMs, chunk: piece }),
    ruleId,
    ruleVersion,
    tenantId: TENANT,
    maxRuns: o.maxRuns ?? 100,
    runsPartition: o.p,
    piece,
    startMs,
    endMs: startMs + (o.seconds ?? 5) * 1000,
    runs: o.runs,
  };
}
const wm = (offset: number, runsPartition: number, streamTime: number): AssembleInput => ({
  kind: "watermark",
  offset,
  runsPartition,
  streamTime,
});
const n = (count: number): AssembleInput => ({ kind: "partitions", count });

/** What a table row checks of an outcome, and the index of the input that produced it. */
function summary(at: number, o: AssembleOutcome) {
  if (o.kind === "duplicate_part")
    return { at, dropped: o.reason, p: o.runsPartition, piece: o.piece, offset: o.offset };
  return {
    at,
    rule: `${o.ruleId === RULE_A ? "A" : "B"}${o.ruleVersion}`,
    bounds: [o.startMs, o.endMs],
    chunk: `${o.chunkIndex}/${o.chunkCount}`,
    runs: o.runs.map((run) => `${run.runId}@${run.time}`),
  };
}

function foldAll(inputs: readonly AssembleInput[], state: AssembleState = createAssembleState()) {
  return inputs.flatMap((input, at) => assembleStep(state, input).map((o) => summary(at, o)));
}

describe("assembler, as tables", () => {
  const cases: { name: string; inputs: AssembleInput[]; expected: ReturnType<typeof summary>[] }[] = [
    {
      name: "a window completes once every runs partition's watermark reaches its end",
      inputs: [
        n(2),
        part(0, { p: 0, runs: [r("a", 100)] }),
        part(1, { p: 1, runs: [r("b", 200)] }),
        wm(2, 0, 5000),
        wm(3, 1, 4999),
        wm(4, 1, 5000),
      ],
      expected: [{ at: 5, rule: "A1", bounds: [0, 5000], chunk: "0/1", runs: ["a@100", "b@200"] }],
    },
    {
      name: "a runs partition without a watermark blocks every window",
      inputs: [n(3), part(0, { p: 0, runs: [r("a", 100)] }), wm(1, 0, 60_000), wm(2, 1, 60_000), wm(3, 2, 5000)],
      expected: [{ at: 4, rule: "A1", bounds: [0, 5000], chunk: "0/1", runs: ["a@100"] }],
    },
    {
      name: "nothing completes before the partition count is known",
      inputs: [part(0, { p: 0, runs: [r("a", 100)] }), wm(1, 0, 60_000), n(1)],
      expected: [{ at: 2, rule: "A1", bounds: [0, 5000], chunk: "0/1", runs: ["a@100"] }],
    },
    {
      name: "a runs partition added later blocks until its own watermark passes the end",
      inputs: [
        n(2),
        part(0, { p: 0, runs: [r("a", 100)] }),
        wm(1, 0, 4000),
        wm(2, 1, 4000),
        n(3),
        wm(3, 0, 6000),
        wm(4, 1, 6000),
        wm(5, 2, 5000),
      ],
      expected: [{ at: 7, rule: "A1", bounds: [0, 5000], chunk: "0/1", runs: ["a@100"] }],
    },
    {
      name: "a smaller partition count than one seen changes nothing",
      inputs: [n(2), part(0, { p: 0, runs: [r("a", 100)] }), n(1), wm(1, 0, 5000), wm(2, 1, 5000)],
      expected: [{ at: 4, rule: "A1", bounds: [0, 5000], chunk: "0/1", runs: ["a@100"] }],
    },
    {
      name: "a watermark of a partition not yet counted is kept for when it is",
      inputs: [n(1), part(0, { p: 0, runs: [r("a", 100)] }), wm(1, 1, 9000), n(2), wm(2, 0, 5000)],
      expected: [{ at: 4, rule: "A1", bounds: [0, 5000], chunk: "0/1", runs: ["a@100"] }],
    },
    {
      name: "an older watermark (an evaluator refolding) neither completes nor lowers anything",
      inputs: [
        n(1),
        part(0, { p: 0, runs: [r("a", 100)] }),
        wm(1, 0, 6000),
        part(2, { p: 0, start: 5000, runs: [r("b", 5100)] }),
        wm(3, 0, 3000),
        wm(4, 0, 9999),
        wm(5, 0, 10_000),
      ],
      expected: [
        { at: 2, rule: "A1", bounds: [0, 5000], chunk: "0/1", runs: ["a@100"] },
        { at: 6, rule: "A1", bounds: [5000, 10_000], chunk: "0/1", runs: ["b@5100"] },
      ],
    },
    {
      name: "runs are ordered by time, then runs partition, then piece and position, whatever the arrival",
      inputs: [
        n(2),
        part(0, { p: 0, piece: 1, runs: [r("v", 300)] }),
        part(1, { p: 1, runs: [r("x", 100), r("y", 200)] }),
        part(2, { p: 0, runs: [r("z", 200), r("w", 300), r("u", 300)] }),
        wm(3, 0, 5000),
        wm(4, 1, 5000),
      ],
      expected: [
        {
          at: 5,
          rule: "A1",
          bounds: [0, 5000],
          chunk: "0/1",
          runs: ["x@100", "z@200", "y@200", "w@300", "u@300", "v@300"],
        },
      ],
    },
    {
      name: "a run id is kept once, at its first place in that order, across parts and partitions",
      inputs: [
        n(2),
        part(0, { p: 0, runs: [r("a", 300), r("c", 400)] }),
        part(1, { p: 1, runs: [r("a", 200), r("b", 250), r("c", 400)] }),
        wm(2, 0, 5000),
        wm(3, 1, 5000),
      ],
      expected: [{ at: 4, rule: "A1", bounds: [0, 5000], chunk: "0/1", runs: ["a@200", "b@250", "c@400"] }],
    },
    {
      name: "windows complete in the order (end, rule id, version, start)",
      inputs: [
        n(1),
        part(0, { p: 0, rule: RULE_B, runs: [r("b5", 100)] }),
        part(1, { p: 0, v: 2, runs: [r("a2", 100)] }),
        part(2, { p: 0, runs: [r("a1", 100)] }),
        part(3, { p: 0, rule: RULE_B, seconds: 2, start: 2000, v: 3, runs: [r("b2", 2100)] }),
        part(4, { p: 0, rule: RULE_B, seconds: 1, v: 4, runs: [r("b1", 100)] }),
        wm(5, 0, 5000),
      ],
      expected: [
        { at: 6, rule: "B4", bounds: [0, 1000], chunk: "0/1", runs: ["b1@100"] },
        { at: 6, rule: "B3", bounds: [2000, 4000], chunk: "0/1", runs: ["b2@2100"] },
        { at: 6, rule: "A1", bounds: [0, 5000], chunk: "0/1", runs: ["a1@100"] },
        { at: 6, rule: "A2", bounds: [0, 5000], chunk: "0/1", runs: ["a2@100"] },
        { at: 6, rule: "B1", bounds: [0, 5000], chunk: "0/1", runs: ["b5@100"] },
      ],
    },
    {
      name: "a part whose window was emitted is a re-emission: dropped and reported",
      inputs: [
        n(1),
        part(0, { p: 0, runs: [r("a", 100)] }),
        wm(1, 0, 5000),
        part(2, { p: 0, runs: [r("a", 100), r("b", 200)] }),
      ],
      expected: [
        { at: 2, rule: "A1", bounds: [0, 5000], chunk: "0/1", runs: ["a@100"] },
        { at: 3, dropped: "window_completed", p: 0, piece: 0, offset: 2 },
      ],
    },
    {
      name: "a part for a window the watermarks passed while no part of it was held is dropped too",
      inputs: [n(1), wm(0, 0, 5000), part(1, { p: 0, runs: [r("a", 100)] })],
      expected: [{ at: 2, dropped: "window_completed", p: 0, piece: 0, offset: 1 }],
    },
    {
      name: "a part id the open window holds already is dropped: the first copy wins",
      inputs: [n(1), part(0, { p: 0, runs: [r("a", 100)] }), part(1, { p: 0, runs: [r("b", 100)] }), wm(2, 0, 5000)],
      expected: [
        { at: 2, dropped: "part_seen", p: 0, piece: 0, offset: 1 },
        { at: 3, rule: "A1", bounds: [0, 5000], chunk: "0/1", runs: ["a@100"] },
      ],
    },
    {
      name: "an empty window sends nothing",
      inputs: [n(1), part(0, { p: 0, runs: [] }), wm(1, 0, 5000)],
      expected: [],
    },
  ];

  it.each(cases)("$name", ({ inputs, expected }) => {
    expect(foldAll(inputs)).toEqual(expected);
  });
});

describe("assembler chunks", () => {
  /** `total` runs spread over three runs partitions, in two pieces each, completed by watermarks. */
  function chunksOf(total: number, maxRuns: number) {
    const all = runs("r", total, (i) => 10 * i);
    const inputs: AssembleInput[] = [n(3)];
    for (let p = 0; p < 3; p++) {
      const mine = all.filter((_, i) => i % 3 === p);
      const half = Math.ceil(mine.length / 2);
      inputs.push(part(inputs.length, { p, maxRuns, runs: mine.slice(0, half) }));
      inputs.push(part(inputs.length, { p, maxRuns, piece: 1, runs: mine.slice(half) }));
    }
    for (let p = 0; p < 3; p++) inputs.push(wm(inputs.length, p, 5000));
    const state = createAssembleState();
    return { all, chunks: inputs.flatMap((input) => assembleStep(state, input)).filter((o) => o.kind === "chunk") };
  }

  it.each([
    [60, 10, [10, 10, 10, 10, 10, 10]],
    [61, 10, [10, 10, 10, 10, 10, 10, 1]],
    [59, 10, [10, 10, 10, 10, 10, 9]],
    [10, 10, [10]],
    [5, 100, [5]],
    [3, 1, [1, 1, 1]],
  ])(
    "%i runs with max_runs %i make chunks of %j, ids by index, all runs once in time order",
    (total, maxRuns, sizes) => {
      const { all, chunks } = chunksOf(total, maxRuns);
      expect(chunks.map((c) => c.runs.length)).toEqual(sizes);
      expect(chunks.map((c) => [c.chunkIndex, c.chunkCount])).toEqual(sizes.map((_, i) => [i, sizes.length]));
      expect(chunks.map((c) => c.windowId)).toEqual(
        sizes.map((_, chunk) => mergedWindowId({ ruleId: RULE_A, ruleVersion: 1, startMs: 0, chunk })),
      );
      expect(chunks.flatMap((c) => c.runs)).toEqual(all);
      expect(chunks.every((c) => c.tenantId === TENANT && c.startMs === 0 && c.endMs === 5000)).toBe(true);
    },
  );
});

describe("merged window ids", () => {
  it("are pinned: the namespace and the name form must never change", () => {
    // Known answers (uuid v5 and Python's uuid.uuid5 agree) of "<rule>/<version>/merged/<start>/<chunk>".
    expect(mergedWindowId({ ruleId: RULE_A, ruleVersion: 1, startMs: 0, chunk: 0 })).toBe(
      "671015c8-d815-504e-b6f5-408e24933f0f",
    );
    expect(mergedWindowId({ ruleId: RULE_A, ruleVersion: 1, startMs: 0, chunk: 1 })).toBe(
      "0ec2279b-e807-5fdf-bf14-cb31de0143d2",
    );
    expect(mergedWindowId({ ruleId: RULE_A, ruleVersion: 2, startMs: 1_712_280_530_000, chunk: 5 })).toBe(
      "b659e887-6fd4-5a9b-8c75-55ba04ff9c45",
    );
  });

  it("differ by every field, and from every per-partition window id", () => {
    const base = { ruleId: RULE_A, ruleVersion: 1, startMs: 0, chunk: 0 };
    const ids = [
      mergedWindowId(base),
      mergedWindowId({ ...base, ruleId: RULE_B }),
      mergedWindowId({ ...base, ruleVersion: 2 }),
      mergedWindowId({ ...base, startMs: 5000 }),
      mergedWindowId({ ...base, chunk: 1 }),
      windowId({ ...base, partition: 0 }),
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("commit offset and checkpoint", () => {
  it("commits before the first part of the oldest open window, else after the last message", () => {
    const state = createAssembleState();
    expect(assembleCommitOffset(state)).toBeUndefined();
    expect(nextCompletionEnd(state)).toBeUndefined();
    const steps: [AssembleInput, number | undefined, number | undefined][] = [
      [n(2), undefined, undefined],
      [wm(3, 0, 1000), 4, undefined],
      [part(4, { p: 0, start: 5000, runs: [r("b", 5100)] }), 4, 10_000],
      [part(5, { p: 1, runs: [r("a", 100)] }), 4, 5000],
      [part(6, { p: 0, runs: [r("c", 200)] }), 4, 5000],
      [wm(7, 0, 7000), 4, 5000],
      [wm(8, 1, 7000), 4, 10_000],
      [wm(9, 0, 10_000), 4, 10_000],
      [wm(10, 1, 10_000), 11, undefined],
    ];
    for (const [input, offset, end] of steps) {
      assembleStep(state, input);
      expect([assembleCommitOffset(state), nextCompletionEnd(state)]).toEqual([offset, end]);
    }
    expect(assembleCheckpoint(state)).toEqual({ floor: 10_000, partitions: 2 });
  });

  it("takes the floor from the highest minimum watermark, which a new partition does not lower", () => {
    const state = createAssembleState();
    for (const input of [n(2), wm(0, 0, 3000), wm(1, 1, 2000), wm(2, 1, 4000), n(3)]) assembleStep(state, input);
    expect(assembleCheckpoint(state)).toEqual({ floor: 3000, partitions: 3 });
  });

  it.each([
    [{ floor: 1_712_280_535_000, partitions: 6 }, '{"v":1,"m":1712280535000,"n":6}'],
    [{ floor: Number.NEGATIVE_INFINITY, partitions: 0 }, '{"v":1,"m":null,"n":0}'],
    [{ floor: Number.NEGATIVE_INFINITY, partitions: 4 }, '{"v":1,"m":null,"n":4}'],
  ])("encodes %j as %s and back", (checkpoint, text) => {
    expect(encodeAssembleCheckpoint(checkpoint)).toBe(text);
    expect(decodeAssembleCheckpoint(text)).toEqual(checkpoint);
  });

  it.each([
    [undefined],
    [null],
    [""],
    ["not json"],
    ["[]"],
    ["null"],
    ['{"v":1,"s":5000,"p":3}'], // the evaluator's checkpoint
    ['{"v":2,"m":1,"n":1}'],
    ['{"v":1,"m":"5","n":1}'],
    ['{"v":1,"n":1}'],
    ['{"v":1,"m":1}'],
    ['{"v":1,"m":1,"n":-1}'],
    ['{"v":1,"m":1,"n":1.5}'],
  ])("refuses foreign metadata %j", (metadata) => {
    expect(decodeAssembleCheckpoint(metadata)).toBeUndefined();
  });

  it("restores: windows ending at or before the floor are dropped, the rest wait for every partition past it", () => {
    const state = restoreAssembleState({ floor: 5000, partitions: 2 });
    expect(assembleCheckpoint(state)).toEqual({ floor: 5000, partitions: 2 });
    const inputs = [
      part(20, { p: 0, runs: [r("a", 100)] }),
      part(21, { p: 1, start: 5000, runs: [r("b", 5100)] }),
      wm(22, 0, 10_000),
      n(3),
      wm(23, 2, 10_000),
      wm(24, 1, 10_000),
    ];
    expect(foldAll(inputs, state)).toEqual([
      { at: 0, dropped: "window_completed", p: 0, piece: 0, offset: 20 },
      { at: 5, rule: "A1", bounds: [5000, 10_000], chunk: "0/1", runs: ["b@5100"] },
    ]);
  });

  it("restores without a floor as a fresh state that knows the partition count", () => {
    const state = restoreAssembleState({ floor: Number.NEGATIVE_INFINITY, partitions: 1 });
    expect(foldAll([part(0, { p: 0, runs: [r("a", 100)] }), wm(1, 0, 5000)], state)).toEqual([
      { at: 1, rule: "A1", bounds: [0, 5000], chunk: "0/1", runs: ["a@100"] },
    ]);
  });
});
