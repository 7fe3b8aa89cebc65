import { v5 as uuidv5 } from "uuid";
import { WINDOW_NAMESPACE } from "./window-id.js";

export interface MergedWindowKey {
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly startMs: number;
  /** 0-based index of the chunk among the window's chunks of at most `max_runs` runs. */
  readonly chunk: number;
}

/**
 * UUIDv5 of (rule id, rule version, window start, chunk) for a window merged over every runs partition.
 * Same namespace as per-partition ids; the literal `merged` where those have a partition number keeps
 * the two name forms disjoint. The name form must never change, or every merged window id would.
 */
export function mergedWindowId(key: MergedWindowKey): string {
  return uuidv5(`${key.ruleId}/${key.ruleVersion}/merged/${key.startMs}/${key.chunk}`, WINDOW_NAMESPACE);
}
