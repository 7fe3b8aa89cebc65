import { v5 as uuidv5 } from "uuid";
import { WINDOW_NAMESPACE } from "../window/window-id.js";

export interface BackfillWindowKey {
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly startMs: number;
  /** 0-based index of the chunk among the window's chunks of at most `max_runs` runs. */
  readonly chunk: number;
}

/**
 * UUIDv5 of (rule id, rule version, `backfill`, window start, chunk). The literal keeps it apart from
 * the live window of the same bounds (`merged-window-id.ts`): a backfill's window is never taken for a
 * duplicate of a live one. The backfill's own id is not in it: every backfill of a range makes the same
 * ids, on every resume, so a window backfilled twice is stored and sent once. The name form must never
 * change.
 */
export function backfillWindowId(key: BackfillWindowKey): string {
  return uuidv5(`${key.ruleId}/${key.ruleVersion}/backfill/${key.startMs}/${key.chunk}`, WINDOW_NAMESPACE);
}
