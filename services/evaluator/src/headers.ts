import type { IHeaders } from "kafkajs";

/** Header that marks a tick (DESIGN.md §4); its value is `tick`. */
export const KIND_HEADER = "runhooks-kind";
export const TICK = "tick";
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
