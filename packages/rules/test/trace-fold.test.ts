import { describe, expect, it } from "vitest";
import {
  createStreamState,
  createTraceState,
  oldestNeededOffset,
  streamStep,
  type ClosedPart,
  type Settlement,
  type StreamInput,
  type TraceLimits,
  type TraceSpec,
  type TraceVerdict,
} from "@runhooks/rules";

const TENANT = "33333333-3333-4333-8333-333333333333";
const H = 10_000;

const spec = (rule: string, needs: { root?: boolean; tree?: boolean }, horizonMs = H): TraceSpec => ({
  window: { ruleId: rule, ruleVersion: 1, tenantId: TENANT, seconds: 5, maxRuns: 100 },
  horizonMs,
  needsRoot: needs.root ?? false,
  needsTree: needs.tree ?? false,
});
/** "LLM errors in vip traces": trace_filter only. */
const T = spec("T", { root: true });
/** "Roots of traces with a tool run": tree_filter only. */
const X = spec("X", { tree: true });
/** Both. */
const TX = spec("TX", { root: true, tree: true });

type Says = { candidate?: boolean; tree?: boolean; root?: boolean };
const says = (s: TraceSpec, v: Says): TraceVerdict => ({
  spec: s,
  candidate: v.candidate ?? false,
  tree: v.tree ?? false,
  root: v.root,
});

/** A run `id` of trace `trace` read at `offset` and time `time`, with what the trace-aware rules said. */
const run = (offset: number, time: number, id: string, trace: string, ...verdicts: TraceVerdict[]): StreamInput => ({
  kind: "run",
  offset,
  time,
  run: { runId: id, json: new TextEncoder().encode(`{"id":"${id}"}`) },
  matches: [],
  trace: { key: `${TENANT}/${trace}`, verdicts },
});
const tick = (offset: number, time: number): StreamInput => ({ kind: "time", offset, time });

/** Folds the inputs; returns what happened to each candidate (`run rule how@time`) and the parts closed. */
function fold(inputs: readonly StreamInput[], limits?: TraceLimits): { story: string[]; parts: ClosedPart[] } {
  const story: string[] = [];
  const s = createStreamState(0);
  const traces = createTraceState(limits, (c, how: Settlement, now) =>
    story.push(`${c.run!.runId} ${c.spec.window.ruleId} ${how}@${now}`),
  );
  const state = { fold: s.fold, traces };
  const parts = inputs.flatMap((i) => streamStep(state, i));
  return { story, parts };
}

describe("trace fold, as tables", () => {
  const cases: { name: string; inputs: StreamInput[]; limits?: TraceLimits; story: string[] }[] = [
    {
      name: "root last: a child waits for its root, and joins when the root passes the trace filter",
      inputs: [
        run(0, 1000, "llm-error", "a", says(T, { candidate: true })),
        run(1, 2000, "tool", "a"),
        run(2, 3000, "root", "a", says(T, { root: true })),
      ],
      story: ["llm-error T joined@3000"],
    },
    {
      name: "root last, failing the trace filter: the child is dropped when the root comes",
      inputs: [
        run(0, 1000, "llm-error", "a", says(T, { candidate: true })),
        run(1, 3000, "root", "a", says(T, { root: false })),
      ],
      story: ["llm-error T root_failed@3000"],
    },
    {
      name: "root first: a child after its root is decided at once",
      inputs: [
        run(0, 1000, "root", "a", says(T, { root: true })),
        run(1, 2000, "late-error", "a", says(T, { candidate: true })),
      ],
      story: ["late-error T joined@2000"],
    },
    {
      name: "root never: the candidate waits one horizon of stream time, then is dropped",
      inputs: [run(0, 1000, "llm-error", "a", says(T, { candidate: true })), tick(1, 1000 + H - 1), tick(2, 1000 + H)],
      story: [`llm-error T horizon@${1000 + H}`],
    },
    {
      name: "tree filter satisfied before the root: candidates join at once, the root too",
      inputs: [
        run(0, 1000, "step", "a", says(X, { candidate: true })),
        run(1, 1500, "tool", "a", says(X, { candidate: true, tree: true })),
        run(2, 1600, "step-2", "a", says(X, { candidate: true })),
        run(3, 2000, "root", "a", says(X, { candidate: true, root: true })),
      ],
      story: ["step X joined@1500", "tool X joined@1500", "step-2 X joined@1600", "root X joined@2000"],
    },
    {
      name: "late child: the root came with no tree run; a later child satisfying it joins alone, and so do runs after it",
      inputs: [
        run(0, 1000, "early", "a", says(X, { candidate: true })),
        run(1, 2000, "root", "a", says(X, { candidate: true, root: true })),
        run(2, 3000, "late-tool", "a", says(X, { candidate: true, tree: true })),
        run(3, 4000, "later", "a", says(X, { candidate: true })),
      ],
      story: ["early X no_tree@2000", "root X no_tree@2000", "late-tool X joined@3000", "later X joined@4000"],
    },
    {
      name: "horizon passing for a fact: a child more than a horizon after its root is judged without it",
      inputs: [
        run(0, 1000, "root", "a", says(T, { root: true })),
        run(1, 1000 + H - 1, "in-time", "a", says(T, { candidate: true })),
        run(2, 1000 + H, "too-late", "a", says(T, { candidate: true })),
        tick(3, 1000 + 2 * H),
      ],
      story: [`in-time T joined@${1000 + H - 1}`, `too-late T horizon@${1000 + 2 * H}`],
    },
    {
      name: "two rules sharing a trace: each decides its candidates with its own facts",
      inputs: [
        run(0, 1000, "llm-error", "a", says(T, { candidate: true }), says(X, { candidate: true })),
        run(1, 1500, "tool", "a", says(X, { tree: true })),
        run(2, 3000, "root", "a", says(T, { root: true }), says(X, { root: true })),
      ],
      story: ["llm-error X joined@1500", "llm-error T joined@3000"],
    },
    {
      name: "both filters: the root passes, but no run of the trace satisfied the tree filter",
      inputs: [
        run(0, 1000, "c", "a", says(TX, { candidate: true })),
        run(1, 2000, "root", "a", says(TX, { root: true })),
      ],
      story: ["c TX no_tree@2000"],
    },
    {
      name: "both filters: tree first, then the root settles it",
      inputs: [
        run(0, 1000, "c", "a", says(TX, { candidate: true })),
        run(1, 1500, "tool", "a", says(TX, { tree: true })),
        run(2, 2000, "root", "a", says(TX, { root: true })),
      ],
      story: ["c TX joined@2000"],
    },
    {
      name: "traces are apart: another trace's root settles nothing here",
      inputs: [
        run(0, 1000, "c", "a", says(T, { candidate: true })),
        run(1, 2000, "root-b", "b", says(T, { root: true })),
        tick(2, 1000 + H),
      ],
      story: [`c T horizon@${1000 + H}`],
    },
    {
      name: "a copy of the root settles nothing twice",
      inputs: [
        run(0, 1000, "c", "a", says(T, { candidate: true })),
        run(1, 2000, "root", "a", says(T, { root: true })),
        run(2, 2500, "root", "a", says(T, { root: true })),
      ],
      story: ["c T joined@2000"],
    },
    {
      name: "each candidate waits for its own version's horizon",
      inputs: [
        run(0, 1000, "short", "a", says(spec("S", { root: true }, 2000), { candidate: true })),
        run(1, 1000, "long", "a", says(T, { candidate: true })),
        tick(2, 3000),
        tick(3, 1000 + H),
      ],
      story: ["short S horizon@3000", `long T horizon@${1000 + H}`],
    },
    {
      name: "too many open traces: the one due soonest is decided early",
      limits: { maxTraces: 2, maxHeldBytes: 1 << 20 },
      inputs: [
        run(0, 1000, "a1", "a", says(T, { candidate: true })),
        run(1, 2000, "b1", "b", says(T, { candidate: true })),
        run(2, 3000, "c1", "c", says(T, { candidate: true })),
        run(3, 4000, "root-b", "b", says(T, { root: true })),
      ],
      story: ["a1 T evicted@3000", "b1 T joined@4000"],
    },
    {
      name: "too many bytes held: the traces due soonest are decided early",
      limits: { maxTraces: 100, maxHeldBytes: 20 },
      inputs: [
        run(0, 1000, "a1", "a", says(T, { candidate: true })),
        run(1, 2000, "b1", "b", says(T, { candidate: true })),
      ],
      story: ["a1 T evicted@2000"],
    },
  ];

  it.each(cases)("$name", ({ inputs, limits, story }) => {
    expect(fold(inputs, limits).story).toEqual(story);
  });
});

describe("trace fold and windows", () => {
  it("a settled candidate joins the window of the moment it was settled, at that time", () => {
    const { parts } = fold([
      run(0, 4000, "llm-error", "a", says(T, { candidate: true })),
      run(1, 6000, "root", "a", says(T, { root: true })),
      tick(2, 20_000),
    ]);
    expect(parts.map((p) => [p.ruleId, p.startMs, p.runs.map((r) => [r.runId, r.offset, r.time])])).toEqual([
      ["T", 5000, [["llm-error", 0, 6000]]],
    ]);
  });

  it("keeps the commit before the first candidate still waiting, and before every run of an open window", () => {
    const s = createStreamState(0);
    streamStep(s, run(0, 1000, "c", "a", says(T, { candidate: true })));
    streamStep(s, run(1, 1100, "other", "b"));
    expect(oldestNeededOffset(s)).toBe(0);
    streamStep(s, run(2, 6000, "root", "a", says(T, { root: true })));
    // Joined at 6000: its window [5000, 10000) holds offset 0 now.
    expect(oldestNeededOffset(s)).toBe(0);
    streamStep(s, tick(3, 10_000));
    expect(oldestNeededOffset(s)).toBeUndefined();
  });

  it("holds nothing once every trace's horizon has passed", () => {
    const s = createStreamState(0);
    streamStep(s, run(0, 1000, "root", "a", says(T, { root: true })));
    streamStep(s, run(1, 1000, "c", "b", says(T, { candidate: true })));
    expect(s.traces.open.size).toBe(2);
    expect(s.traces.heldBytes).toBeGreaterThan(0);
    streamStep(s, tick(2, 1000 + H));
    expect(s.traces.open.size).toBe(0);
    expect(s.traces.heldBytes).toBe(0);
  });
});
