import type { TopicNames } from "@runhooks/kafka";
import { encodeCheckpoint } from "@runhooks/rules";
import type { Message } from "kafkajs";
import { commitPoint } from "./cut-policy.js";
import type { PartitionState } from "./partition-state.js";
import { createRuleErrorBatch, type RuleErrorBatch } from "./rule-errors.js";
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
  readonly checkpoint: string;
  /** The checkpoint's processed-up-to offset. */
  readonly processedUpTo: number;
  readonly sent: ((error?: unknown) => void) | undefined;
}

/** What a batch has read since its last cut. */
export interface PendingCut {
  /** Dead letters, in the order of their messages. */
  out: TopicMessages[];
  parts: Message[];
  /** Published with the dead letters of the same cut, and suppressed below the checkpoint like them. */
  readonly ruleErrors: RuleErrorBatch;
  /** Bytes of `parts`. */
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

/** Adds a closed part's message and counts its bytes. */
export function addPart(p: PendingCut, message: Message & { value: Buffer }): void {
  p.windowBytes += message.value.length;
  p.parts.push(message);
}

/**
 * Takes what was read so far as a cut — parts after the dead letters, then the rule errors — with the
 * watermark due (`watermarkDue`, which then counts as sent: a cut that is never sent drops the fold),
 * the commit point and the checkpoint as the fold stands now, and starts the next one empty.
 */
export function takeCut(
  p: PendingCut,
  topics: Pick<TopicNames, "windows" | "ruleErrors">,
  s: PartitionState,
  sent: Cut["sent"],
  now: number,
): Cut {
  const out = p.out;
  if (p.parts.length > 0) out.push({ topic: topics.windows, messages: p.parts });
  if (p.ruleErrors.size > 0) out.push({ topic: topics.ruleErrors, messages: p.ruleErrors.drain() });
  const streamTime = s.fold.streamTime;
  const watermark = watermarkDue(s.lastWatermark, streamTime) ? streamTime : undefined;
  if (watermark !== undefined) s.lastWatermark = watermark;
  const cut: Cut = {
    out,
    partCount: p.parts.length,
    watermark,
    commitAt: commitPoint(s, s.nextOffset),
    checkpoint: encodeCheckpoint({ streamTime, processedUpTo: s.nextOffset }),
    processedUpTo: s.nextOffset,
    sent,
  };
  p.out = [];
  p.parts = [];
  p.windowBytes = 0;
  p.messages = 0;
  p.cutAt = now;
  return cut;
}
