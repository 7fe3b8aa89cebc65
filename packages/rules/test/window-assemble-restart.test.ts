import { describe, expect, it } from "vitest";
import {
  assembleCheckpoint,
  assembleCommitOffset,
  assembleStep,
  chunkWindow,
  createAssembleState,
  decodeAssembleCheckpoint,
  encodeAssembleCheckpoint,
  mergeParts,
  restoreAssembleState,
  type AssembleInput,
  type AssembleOutcome,
  type AssemblePart,
  type AssembleState,
  type MergedChunk,
  type PartRun,
} from "@runhooks/rules";
import { mulberry32 } from "../../../test/support/random.js";
import { SIM_TENANT, simulate, type SimOptions, type SimRule } from "./assemble/simulate.js";

const RULE_A = "11111111-1111-4111-8111-111111111111";
const RULE_B = "22222222-2222-4222-8222-222222222222";
const rules: SimRule[] = [
  { ruleId: RULE_A, ruleVersion: 1, seconds: 1, maxRuns: 3 },
  { ruleId: RULE_A, ruleVersion: 2, seconds: 2, maxRuns: 4 },
  { ruleId: RULE_B, ruleVersion: 1, seconds: 5, maxRuns: 10 },
];

const chunksOf = (outcomes: readonly AssembleOutcome[]) => outcomes.filter((o): o is MergedChunk => o.kind === "chunk");
/** Runs' bytes as text (deep equality walks a Uint8Array element by element, a string at once), once per run. */
const runText = new WeakMap<PartRun, string>();
function textOf(run: PartRun): string {
  let text = runText.get(run);
  if (text === undefined) runText.set(run, (text = `${run.runId}@${run.time}:${new TextDecoder().decode(run.json)}`));
  return text;
}
const comparable = (chunks: readonly MergedChunk[]) => chunks.map((c) => ({ ...c, runs: c.runs.map(textOf) }));
const key = (c: { ruleId: string; ruleVersion: number; startMs: number }) =>
  `${c.ruleId}/${c.ruleVersion}/${c.startMs}`;

/** A simulated windows partition as the assembler's inputs, and its uninterrupted fold. */
function prepare(seed: number, options: Omit<SimOptions, "rules">) {
  const sim = simulate(mulberry32(seed), { ...options, rules });
  /** Each log message, preceded by the partition count when it grew. */
  const inputs: AssembleInput[] = [];
  /** inputs index of log offset o. */
  const inputAt: number[] = [];
  let known = 0;
  for (const { message, known: count } of sim.log) {
    if (count > known) inputs.push({ kind: "partitions", count: (known = count) });
    inputAt.push(inputs.length);
    inputs.push(message);
  }
  /** inputs index just past log offset cut - 1: where a fold that read `cut` messages stopped. */
  const endOfCut = (cut: number) => (cut === 0 ? 0 : inputAt[cut - 1]! + 1);
  const fold = (state: AssembleState, from: number, to: number): AssembleOutcome[] => {
    const out: AssembleOutcome[] = [];
    for (let i = from; i < to; i++) out.push(...assembleStep(state, inputs[i]!));
    return out;
  };
  const uninterrupted = fold(createAssembleState(), 0, inputs.length);
  return { sim, inputs, endOfCut, fold, uninterrupted, reference: chunksOf(uninterrupted) };
}

describe.each([
  { seed: 16, steps: 900, created: [0, 0, 4000, 9000], counts: [2, 3, 4] },
  { seed: 7, steps: 700, created: [0, 0, 0, 0, 0, 0], counts: [6] },
])(
  "assembler over a simulated windows partition (seed $seed, partitions created at $created)",
  ({ seed, steps, created, counts }) => {
    const { sim, inputs, endOfCut, fold, uninterrupted, reference } = prepare(seed, { steps, created });
    const expected = comparable(reference);

    it("the log is a real test: chunked windows, both kinds of duplicates, retried runs, every partition", () => {
      expect(sim.log.length).toBeGreaterThan(400);
      expect(reference.some((c) => c.chunkCount > 2)).toBe(true);
      const dropped = new Set(uninterrupted.flatMap((o) => (o.kind === "duplicate_part" ? [o.reason] : [])));
      expect(dropped).toEqual(new Set(["window_completed", "part_seen"]));
      expect(inputs.flatMap((i) => (i.kind === "partitions" ? [i.count] : []))).toEqual(counts);
      expect(new Set(sim.log.map((e) => e.message.kind === "part" && e.message.runsPartition))).toContain(
        created.length - 1,
      );
      // A run retried into another partition's part of the same window: the merge must drop one copy.
      const copies = new Map<string, Set<number>>();
      for (const { message: m } of sim.log) {
        if (m.kind !== "part") continue;
        for (const r of m.runs) {
          const at = `${key(m)}/${r.runId}`;
          copies.set(at, (copies.get(at) ?? new Set()).add(m.runsPartition));
        }
      }
      expect([...copies.values()].some((partitions) => partitions.size > 1)).toBe(true);
    });

    it("emits every window of the ground truth once, holding exactly its runs over all partitions", () => {
      const ids = reference.map((c) => c.windowId);
      expect(new Set(ids).size).toBe(ids.length);
      const held = new Map<string, string[]>();
      for (const c of reference) held.set(key(c), [...(held.get(key(c)) ?? []), ...c.runs.map((r) => r.runId)]);
      expect(new Set(held.keys())).toEqual(new Set(sim.truth.keys()));
      for (const [window, runIds] of held) {
        expect(new Set(runIds).size, window).toBe(runIds.length);
        expect(new Set(runIds), window).toEqual(sim.truth.get(window));
      }
    });

    it("makes every window the merge of all its parts, in chunks of max_runs", () => {
      const parts = new Map<string, AssemblePart[]>();
      const seen = new Set<string>();
      for (const { message: m } of sim.log) {
        if (m.kind !== "part" || seen.has(m.partId)) continue;
        seen.add(m.partId);
        parts.set(key(m), [...(parts.get(key(m)) ?? []), m]);
      }
      const merged = [...parts.values()].flatMap((ps) => {
        const first = ps[0]!;
        return chunkWindow({ ...first, tenantId: SIM_TENANT }, mergeParts(ps));
      });
      const byId = (cs: MergedChunk[]) => comparable(cs).sort((a, b) => (a.windowId < b.windowId ? -1 : 1));
      expect(byId(reference)).toEqual(byId(merged));
      for (const c of reference) {
        const maxRuns = rules.find((r) => r.ruleId === c.ruleId && r.ruleVersion === c.ruleVersion)!.maxRuns;
        expect(c.runs.length).toBe(c.chunkIndex < c.chunkCount - 1 ? maxRuns : c.runs.length);
        expect(c.runs.length).toBeLessThanOrEqual(maxRuns);
        expect(c.runs.map((r) => r.time)).toEqual(c.runs.map((r) => r.time).sort((a, b) => a - b));
      }
    });

    it("emits in the order (end, rule id, version, start, chunk)", () => {
      const order = reference.map((c) => [c.endMs, c.ruleId, c.ruleVersion, c.startMs, c.chunkIndex] as const);
      const sorted = [...order].sort(
        (a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) || a[2] - b[2] || a[3] - b[3] || a[4] - b[4],
      );
      expect(order).toEqual(sorted);
    });

    it("restarting from the checkpoint at any cut changes nothing", () => {
      // One uninterrupted fold, stopped at every cut in turn (folding from scratch to each cut would give
      // the same state: the fold is deterministic).
      const before = createAssembleState();
      const emittedBefore: MergedChunk[] = [];
      let commitOffsetsBehind = 0;
      for (let cut = 1; cut < sim.log.length; cut++) {
        // 1. Fold up to and including log offset cut - 1; keep the commit the shell would make.
        emittedBefore.push(...chunksOf(fold(before, endOfCut(cut - 1), endOfCut(cut))));
        const offset = assembleCommitOffset(before)!;
        const metadata = encodeAssembleCheckpoint(assembleCheckpoint(before));
        if (offset < cut) commitOffsetsBehind++;
        // 2. Restart: the checkpoint, the partition count as fetched now, the log from the committed offset.
        const after = restoreAssembleState(decodeAssembleCheckpoint(metadata)!);
        assembleStep(after, { kind: "partitions", count: sim.log[cut - 1]!.known });
        const emittedAfter = chunksOf(fold(after, endOfCut(offset), inputs.length));
        expect(comparable([...emittedBefore, ...emittedAfter]), `cut at ${cut}`).toEqual(expected);
      }
      // Most cuts leave windows open, so most restarts re-read parts.
      expect(commitOffsetsBehind).toBeGreaterThan(sim.log.length / 2);
    }, 60_000); // hundreds of refolds, each hashing every chunk id: seconds of CPU on a busy machine
  },
);
