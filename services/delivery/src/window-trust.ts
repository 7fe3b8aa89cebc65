import type { WindowDeadLetterReason } from "@runhooks/contracts";
import type { RuleOwner } from "@runhooks/db";

/**
 * Whether a window part checks out against the rule store (DESIGN.md §5). Anyone allowed to write the
 * windows topic could write a part naming any rule: delivery would then send it to that rule's
 * webhooks, signed with their secrets. A part is accepted only when its rule exists, is its tenant's,
 * and has its version; the webhooks it goes to are then those of that version, read from the store.
 * Pure.
 */

/** What a part claims: the rule, version and tenant it was produced for. */
export interface PartClaim {
  readonly tenantId: string;
  readonly ruleId: string;
  readonly ruleVersion: number;
}

export type PartVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: Exclude<WindowDeadLetterReason, "invalid">; readonly error: string };

/** The verdict on a part, given its rule's owner and latest version (undefined: no such rule). */
export function judgePart(part: PartClaim, owner: RuleOwner | undefined): PartVerdict {
  if (owner === undefined) return { ok: false, reason: "unknown_rule", error: `rule ${part.ruleId} does not exist` };
  if (owner.tenantId !== part.tenantId) {
    // The owner is not named: the writer of a forged part learns nothing of who owns the rule.
    return {
      ok: false,
      reason: "tenant_mismatch",
      error: `rule ${part.ruleId} is not tenant ${part.tenantId}'s`,
    };
  }
  if (part.ruleVersion > owner.latest) {
    return {
      ok: false,
      reason: "unknown_rule_version",
      error: `rule ${part.ruleId} has no version ${part.ruleVersion} (latest ${owner.latest})`,
    };
  }
  return { ok: true };
}
