import type { TopicNames } from "@runhooks/kafka";
import { encodeTraceSnapshot, isEmptySnapshot, takeTraceSnapshot, type Checkpoint } from "@runhooks/rules";
import { commitPoint } from "./cut-policy.js";
import { pendingBytes, windowMessages, type PendingPart } from "./part-message.js";
import type { PartitionState } from "./partition-state.js";
import { createRuleErrorBatch, type RuleErrorBatch } from "./rule-errors.js";
import { SNAPSHOT_BYTES, SNAPSHOT_CHUNK_BYTES } from "./trace-snapshots.js";
import type { TopicMessages } from "./send-chunks.js";
import { watermarkDue } from "./watermark.js";

/** What one cut of a batch publishes and commits, fixed when it is cut. */
export interface Cut {
  readonly out: TopicMessages[];
  readonly partCount: number;
  /** The stream time to send as the partition's watermark once `out` is acknowledged; undefined: none due. */
  readonly watermark: number | undefined;
  /** Never past the first run of a window still open at the cut. */
  readonly commitAt: number;
  /** Committed with the trace snapshot last written before it (`PartitionState.snapshot`). */
  readonly checkpoint: Checkpoint;
  /** The trace snapshot to write before the commit; undefined: none due (the commit names the last one). */
  readonly snapshot: CutSnapshot | undefined;
  readonly sent: ((error?: unknown) => void) | undefined;
}

/** A trace snapshot taken at a cut: its chunks (none when nothing is open: nothing to write). */
export interface CutSnapshot {
  readonly upTo: number;
  readonly chunks: readonly string[];
  /** Wall-clock ms taking and encoding it took on the fold's thread. */
  readonly tookMs: number;
}

/** What a batch has read since its last cut. */
export interface PendingCut {
  /** Dead letters, in the order of their messages. */
  out: TopicMessages[];
  parts: PendingPart[];
  /** Published with the dead letters of the same cut, and suppressed below the checkpoint like them. */
  readonly ruleErrors: RuleErrorBatch;
  /** Bytes of the runs of `parts`. */
  windowBytes: number;
  /** Messages read since the last cut. */
  messages: number;
  /** The offset of the last message read, which the next fetch starts after once it is cut. */
  lastOffset: string | undefined;
  /** Wall-clock ms of the last cut (or of the batch's start). */
  cutAt: number;
}

export function createPendingCut(now: number): PendingCut {
  return {
    out: [],
    parts: [],
    ruleErrors: createRuleErrorBatch(),
    windowBytes: 0,
    messages: 0,
    lastOffset: undefined,
    cutAt: now,
  };
}

/** Adds a closed part and counts its bytes. */
export function addPart(p: PendingCut, part: PendingPart): void {
  p.windowBytes += pendingBytes(part.part);
  p.parts.push(part);
}

/**
 * Takes what was read so far as a cut — parts (bundled per windows partition: `windowMessages`) after
 * the dead letters, then the rule errors — with the
 * watermark due (`watermarkDue`, which then counts as sent: a cut that is never sent drops the fold),
 * the commit point and the checkpoint as the fold stands now, a trace snapshot when one is due
 * (`snapshotEveryMs` since the last; undefined: none, as while a restart refolds below its snapshot),
 * and starts the next one empty.
 */
export function takeCut(
  p: PendingCut,
  topics: Pick<TopicNames, "windows" | "ruleErrors">,
  s: PartitionState,
  sent: Cut["sent"],
  now: number,
  snapshotEveryMs?: number,
  bundles = true,
): Cut {
  const out = p.out;
  if (p.parts.length > 0) out.push({ topic: topics.windows, messages: windowMessages(p.parts, bundles) });
  if (p.ruleErrors.size > 0) out.push({ topic: topics.ruleErrors, messages: p.ruleErrors.drain() });
  const streamTime = s.fold.streamTime;
  const watermark = watermarkDue(s.lastWatermark, streamTime) ? streamTime : undefined;
  if (watermark !== undefined) s.lastWatermark = watermark;
  const cut: Cut = {
    out,
    partCount: p.parts.length,
    watermark,
    commitAt: commitPoint(s, s.nextOffset),
    checkpoint: { streamTime, processedUpTo: s.nextOffset },
    snapshot: snapshotDue(s, now, snapshotEveryMs),
    sent,
  };
  p.out = [];
  p.parts = [];
  p.windowBytes = 0;
  p.messages = 0;
  p.cutAt = now;
  return cut;
}

/**
 * The partition's trace snapshot at the cut, when one is due; the wall clock only decides when. None
 * while restoring or refolding below the checkpoint: a fallback's trace prefix drops joins, so its state
 * there is not the uninterrupted fold's, and a snapshot of it would make a later refold re-emit parts
 * that differ from the first ones.
 */
function snapshotDue(s: PartitionState, now: number, everyMs: number | undefined): CutSnapshot | undefined {
  if (everyMs === undefined || s.restore !== undefined || s.nextOffset < s.suppressBelow) return undefined;
  if (now - s.snapshotAt < everyMs) return undefined;
  s.snapshotAt = now;
  const started = performance.now();
  const snapshot = takeTraceSnapshot(s, s.nextOffset, SNAPSHOT_BYTES);
  const chunks = isEmptySnapshot(snapshot) ? [] : encodeTraceSnapshot(snapshot, SNAPSHOT_CHUNK_BYTES);
  return { upTo: s.nextOffset, chunks, tookMs: performance.now() - started };
}
