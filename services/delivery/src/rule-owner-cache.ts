import { ruleOwners, type Database, type RuleOwner } from "@runhooks/db";
import type { PartClaim } from "./window-trust.js";

export interface RuleOwnerCache {
  /** The owner of each claimed rule that exists, fresh enough to judge every claimed version. */
  owners(claims: Iterable<PartClaim>): Promise<ReadonlyMap<string, RuleOwner>>;
}

/**
 * A rule's tenant never changes and its versions only grow, so an owner read once judges every claim
 * up to its latest version for good; a claim past it (a newer version) reads the rule again. Rules that
 * do not exist are not remembered: a genuine part names a rule stored before it was written, and a
 * flood of forged ids would only fill the cache. One query per batch, for every rule it misses.
 */
export function createRuleOwnerCache(db: Database, maxEntries = 100_000): RuleOwnerCache {
  const known = new Map<string, RuleOwner>();
  return {
    async owners(claims) {
      const out = new Map<string, RuleOwner>();
      const missing = new Set<string>();
      for (const c of claims) {
        const hit = known.get(c.ruleId);
        if (hit !== undefined && hit.latest >= c.ruleVersion) out.set(c.ruleId, hit);
        else missing.add(c.ruleId);
      }
      if (missing.size === 0) return out;
      for (const [ruleId, owner] of await ruleOwners(db, [...missing])) {
        if (!known.has(ruleId) && known.size >= maxEntries) known.delete(known.keys().next().value!);
        known.set(ruleId, owner);
        out.set(ruleId, owner);
      }
      return out;
    },
  };
}
