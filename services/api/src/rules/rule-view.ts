import { redactRule, type JsonValue } from "@runhooks/contracts";
import type { RuleEventRecord, RuleRecord } from "@runhooks/db";
import { RULE_FILTER_FIELDS, resolveFilter } from "@runhooks/rules";

/**
 * A rule as the API shows it: the rule document with every webhook secret redacted (`secret=***`,
 * header values `***`, `whsec_***`), plus its version and times, and — for each of its filters that is
 * a LangSmith string — `<field>_logic` (`filter_logic`, `trace_filter_logic`, `tree_filter_logic`), the
 * JSON-logic tree it compiles to. Sent back as it is, it changes nothing:
 * redacted values mean "keep the stored one" and the read-only fields are ignored.
 */
export function ruleView(record: RuleRecord) {
  return {
    ...redactRule(record.rule),
    ...filterLogic(record.rule),
    version: record.version,
    created_at: record.createdAt.toISOString(),
    updated_at: record.updatedAt.toISOString(),
    effective_from: record.effectiveFrom?.toISOString() ?? null,
  };
}
export type RuleView = ReturnType<typeof ruleView>;

export function ruleEventView(event: RuleEventRecord) {
  return {
    version: event.version,
    type: event.type,
    occurred_at: event.occurredAt.toISOString(),
    effective_from: event.effectiveFrom?.toISOString() ?? null,
    rule: redactRule(event.rule),
  };
}

/** The trees a rule's string filters compile to (a stored one that no longer resolves shows none). */
function filterLogic(rule: RuleRecord["rule"]): Record<string, JsonValue> {
  const logic: Record<string, JsonValue> = {};
  for (const field of RULE_FILTER_FIELDS) {
    const filter = rule[field];
    if (typeof filter !== "string") continue;
    const resolved = resolveFilter(filter);
    if (resolved.ok) logic[`${field}_logic`] = resolved.tree;
  }
  return logic;
}

/** The ETag of a rule version, for `If-Match`. */
export function etag(version: number): string {
  return `"${version}"`;
}
