import { v5 as uuidv5 } from "uuid";

/** Fixed namespace of runhooks window ids. Changing it would change every window id: never do. */
export const WINDOW_NAMESPACE = "6f1c3b2a-5d4e-4f60-8a71-2b3c4d5e6f70";

export interface WindowKey {
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly partition: number;
  readonly startMs: number;
  /** The part's piece: its index among the pieces of one runs partition's share of the window. */
  readonly chunk: number;
}

/**
 * UUIDv5 of (rule id, rule version, runs partition, window start, piece): a window part's id. The same
 * logs always give the same id, which is how the assembler recognises a re-emitted part.
 */
export function windowId(key: WindowKey): string {
  return uuidv5(`${key.ruleId}/${key.ruleVersion}/${key.partition}/${key.startMs}/${key.chunk}`, WINDOW_NAMESPACE);
}
