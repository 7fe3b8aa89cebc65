import { SCHEMA_VERSION, type RunsWatermark } from "@runhooks/contracts";
import type { Message } from "kafkajs";
import { KIND_HEADER, WATERMARK, watermarkKey } from "./headers.js";

/**
 * Watermarks (DESIGN.md §4): after the parts of a flush are acknowledged, a runs partition's stream
 * time S goes to every partition of the windows topic, saying "every part of this runs partition for
 * a window with end <= S precedes me". The assembler completes a window once every runs partition's
 * watermark has passed its end.
 *
 * Window ends are whole seconds (windows are aligned multiples of a whole number of seconds), so a
 * watermark can complete something new only when S crossed a whole second since the last one: at
 * most one watermark per runs partition per second, however often it flushes.
 */

/**
 * Whether a flush that brought the stream time to `streamTime` sends a watermark: always the first
 * after an assignment (`lastSent` undefined: the assembler may never have heard of this partition),
 * then whenever a whole second lies in (lastSent, streamTime].
 */
export function watermarkDue(lastSent: number | undefined, streamTime: number): boolean {
  if (!Number.isFinite(streamTime)) return false;
  if (lastSent === undefined) return true;
  return Math.floor(streamTime / 1000) > Math.floor(lastSent / 1000);
}

/** The watermark (p, S) as one message per windows partition, each sent there explicitly. */
export function watermarkMessages(runsPartition: number, streamTime: number, windowsPartitions: number): Message[] {
  const value: RunsWatermark = {
    schema_version: SCHEMA_VERSION,
    runs_partition: runsPartition,
    stream_time: streamTime,
  };
  const text = JSON.stringify(value);
  const key = watermarkKey(runsPartition);
  return Array.from({ length: windowsPartitions }, (_, partition) => ({
    partition,
    key,
    value: text,
    headers: { [KIND_HEADER]: WATERMARK },
  }));
}
