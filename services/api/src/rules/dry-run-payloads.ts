import type { Run, WebhookPayload } from "@runhooks/contracts";
import {
  chunkWindow,
  createFoldState,
  createTraceState,
  mergeParts,
  streamStep,
  type ClosedPart,
  type MergeablePart,
  type MergedWindowSpec,
  type Settlement,
  type TraceInput,
  type WindowSpec,
} from "@runhooks/rules";

/** Which chunk of its window a payload is: what its `runhooks-chunk-index` / `-count` headers say. */
export interface PayloadChunk {
  /** The id delivery gives this chunk (each webhook's delivery id derives from it). */
  readonly window_id: string;
  /** 0-based. */
  readonly chunk_index: number;
  readonly chunk_count: number;
}

/** No offset means UTC (LangSmith's convention), never local time. */
export function timeOf(run: Run): number {
  const text = run.end_time ?? run.start_time;
  const withOffset = /([zZ]|[+-]\d{2}:\d{2})$/.test(text) ? text : `${text}Z`;
  return Date.parse(withOffset);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A dry run's parts, window by window: what the assembler would merge (one runs partition here). */
function windowsOf(parts: readonly ClosedPart[]): { spec: MergedWindowSpec; parts: MergeablePart[] }[] {
  const windows = new Map<string, { spec: MergedWindowSpec; parts: MergeablePart[] }>();
  for (const p of parts) {
    const key = `${p.ruleId}/${p.ruleVersion}/${p.startMs}`;
    let w = windows.get(key);
    if (w === undefined) {
      const { ruleId, ruleVersion, tenantId, maxRuns, startMs, endMs } = p;
      windows.set(key, (w = { spec: { ruleId, ruleVersion, tenantId, maxRuns, startMs, endMs }, parts: [] }));
    }
    w.parts.push({ runsPartition: p.partition, piece: p.piece, runs: p.runs });
  }
  // The assembler's order of completed windows: by end, rule id, version and start.
  return [...windows.values()].sort(
    ({ spec: a }, { spec: b }) =>
      a.endMs - b.endMs ||
      (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0) ||
      a.ruleVersion - b.ruleVersion ||
      a.startMs - b.startMs,
  );
}

/** A judged run of the dry run: the windows it joins at once, and what trace-aware rules said of it. */
export interface DryRunInput {
  readonly run: Run;
  readonly matches: readonly WindowSpec[];
  readonly trace?: TraceInput | undefined;
}

/** What became of a trace-aware rule's candidate: how, at what time, and while which run was read. */
export interface DrySettlement {
  readonly how: Settlement;
  readonly at: number;
  /** Index of the run whose reading settled it; undefined when the end of the runs did (its horizon). */
  readonly by: number | undefined;
}

/**
 * The payloads a receiver would get, with the evaluator's fold (trace fold and window fold) and the
 * assembler's merge: aligned windows of `window.seconds`, a run id once per window, each window's runs
 * in order of time and cut into chunks of `window.max_runs`. The live evaluator uses each run's broker
 * append time; a dry run has none, so it folds the runs in the order of their end_time (start_time if
 * none), as sent where those tie, in one runs partition. `settled`: by run index, what became of each
 * trace-aware candidate.
 */
export function foldDryRun(judged: readonly DryRunInput[]): {
  payloads: WebhookPayload[];
  chunks: PayloadChunk[];
  settled: Map<number, DrySettlement>;
} {
  const inLogOrder = judged
    .map((m, index) => ({ ...m, index, time: timeOf(m.run) }))
    .sort((a, b) => a.time - b.time || a.index - b.index);
  const settled = new Map<number, DrySettlement>();
  let reading: number | undefined;
  const state = {
    fold: createFoldState(0),
    traces: createTraceState(undefined, (c, how, at) => settled.set(c.offset, { how, at, by: reading })),
  };
  const parts: ClosedPart[] = [];
  for (const m of inLogOrder) {
    reading = m.index;
    const { index: offset, time } = m;
    if (m.matches.length === 0 && m.trace === undefined) {
      parts.push(...streamStep(state, { kind: "time", offset, time }));
      continue;
    }
    const run = { runId: m.run.id, json: encoder.encode(JSON.stringify(m.run)) };
    parts.push(...streamStep(state, { kind: "run", offset, time, run, matches: m.matches, trace: m.trace }));
  }
  // A time past every window's end and every horizon closes the windows still open.
  reading = undefined;
  parts.push(...streamStep(state, { kind: "time", offset: judged.length, time: Number.POSITIVE_INFINITY }));
  const payloads: WebhookPayload[] = [];
  const chunks: PayloadChunk[] = [];
  for (const w of windowsOf(parts)) {
    for (const c of chunkWindow(w.spec, mergeParts(w.parts))) {
      payloads.push({
        rule_id: c.ruleId,
        start_time: new Date(c.startMs).toISOString(),
        end_time: new Date(c.endMs).toISOString(),
        // The bytes a receiver gets, as the evaluator splices them.
        runs: c.runs.map((r) => JSON.parse(decoder.decode(r.json)) as Run),
      });
      chunks.push({ window_id: c.windowId, chunk_index: c.chunkIndex, chunk_count: c.chunkCount });
    }
  }
  return { payloads, chunks, settled };
}
