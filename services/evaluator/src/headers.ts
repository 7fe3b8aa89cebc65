import type { IHeaders } from "kafkajs";

/**
 * Header that says what a message is (DESIGN.md §4): `tick` on the runs and rules topics; `parts` (a
 * bundle of window parts), `part` or `watermark` on windows.
 */
export const KIND_HEADER = "runhooks-kind";
export const TICK = "tick";
export const PART = "part";
export const PARTS = "parts";
export const WATERMARK = "watermark";
/** A single part message's part id, for whoever reads the windows topic by hand. */
export const PART_ID_HEADER = "runhooks-part-id";
/** Key of ticks on the rules topic: compaction keeps just the last one. */
export const RULES_TICK_KEY = "__tick__";

export function isTick(headers: IHeaders | undefined): boolean {
  const value = headers?.[KIND_HEADER];
  if (value === undefined) return false;
  const first = Array.isArray(value) ? value[0] : value;
  return first !== undefined && first.toString() === TICK;
}

export function tickValue(source: string): string {
  return JSON.stringify({ schema_version: 1, kind: "tick", source });
}

/** Key of a runs partition's watermarks: never a rule id, and the same for each of its watermarks. */
export function watermarkKey(runsPartition: number): string {
  return `__watermark__/${runsPartition}`;
}
