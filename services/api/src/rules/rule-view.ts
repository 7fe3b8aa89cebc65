import { redactRule, type JsonValue } from "@runhooks/contracts";
import type { RuleEventRecord, RuleRecord } from "@runhooks/db";
import { resolveFilter } from "@runhooks/rules";

/**
 * A rule as the API shows it: the rule document with every webhook secret redacted (`secret=***`,
 * header values `***`, `whsec_***`), plus its version and times, and — when the filter is a LangSmith
 * string — `filter_logic`, the JSON-logic tree it compiles to. Sent back as it is, it changes nothing:
 * redacted values mean "keep the stored one" and the read-only fields are ignored.
 */
export function ruleView(record: RuleRecord) {
  return {
    ...redactRule(record.rule),
    ...filterLogic(record.rule.filter),
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

/** The tree a string filter compiles to (a stored one that no longer resolves shows none). */
function filterLogic(filter: JsonValue): { filter_logic?: JsonValue } {
  if (typeof filter !== "string") return {};
  const resolved = resolveFilter(filter);
  return resolved.ok ? { filter_logic: resolved.tree } : {};
}

/** The ETag of a rule version, for `If-Match`. */
export function etag(version: number): string {
  return `"${version}"`;
}
