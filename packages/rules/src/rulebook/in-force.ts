import type { RuleBook } from "./rule-book.js";

/**
 * Whether some rule may still hold a window open at `time`: one has a version in force (its newest
 * entry is a version, not a tombstone), or was deleted less than the longest window before `time`
 * (its last windows may still be open somewhere). While this holds, every runs partition's watermark
 * must keep moving, or the merged windows wait for it.
 */
export function anyRuleInForce(book: RuleBook, time: number): boolean {
  for (const t of book.rules.values()) {
    const newest = t.entries.at(-1);
    if (newest === undefined) continue;
    if (newest.rule !== undefined || time - newest.effectiveFrom < book.longestWindowMs) return true;
  }
  return false;
}
