import type { Run, WebhookPayload } from "@runhooks/contracts";
import {
  chunkWindow,
  createFoldState,
  foldStep,
  mergeParts,
  type ClosedPart,
  type MergeablePart,
  type MergedWindowSpec,
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
function timeOf(run: Run): number {
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

/**
 * The payloads a receiver would get, with the evaluator's fold and the assembler's merge: aligned
 * windows of `window.seconds`, a run id once per window, each window's runs in order of time and cut
 * into chunks of `window.max_runs`. The live evaluator uses each run's broker append time; a dry run
 * has none, so it folds the runs in the order of their end_time (start_time if none), as sent where
 * those tie, in one runs partition.
 */
export function windowPayloads(matched: readonly { readonly run: Run; readonly matches: readonly WindowSpec[] }[]): {
  payloads: WebhookPayload[];
  chunks: PayloadChunk[];
} {
  const inLogOrder = matched
    .map((m, index) => ({ ...m, index, time: timeOf(m.run) }))
    .sort((a, b) => a.time - b.time || a.index - b.index);
  const fold = createFoldState(0);
  const parts: ClosedPart[] = [];
  for (const m of inLogOrder) {
    const run = { runId: m.run.id, json: encoder.encode(JSON.stringify(m.run)) };
    parts.push(...foldStep(fold, { kind: "run", offset: m.index, time: m.time, run, matches: m.matches }));
  }
  // A time past every window's end closes the windows still open.
  parts.push(...foldStep(fold, { kind: "time", offset: matched.length, time: Number.POSITIVE_INFINITY }));
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
  return { payloads, chunks };
}
