import {
  REDACTED_SIGNING_SECRET,
  redactUrl,
  redactWebhook,
  type FieldIssue,
  type ParseResult,
} from "@runhooks/contracts";
import type { BackfillRecord, RuleRecord, StoredRule } from "@runhooks/db";
import {
  LANGSMITH_FIELDS_NOT_YET_SUPPORTED,
  LANGSMITH_LATER_FIELDS,
  LANGSMITH_READ_ONLY_FIELDS,
  LANGSMITH_UNSUPPORTED_FIELDS,
  LATER_FIELD_MEANING,
  isEmptyValue,
  type LangSmithLaterField,
} from "./langsmith-fields.js";
import { withoutUnsendableHeaders } from "./rule-input.js";

/**
 * LangSmith's rule documents ⇄ runhooks rules. Pure. A LangSmith body becomes the fields of a
 * runhooks rule document, which then goes through the same validation as a native one
 * (`parseRuleDocument`); a stored rule is shown in LangSmith's shape, secrets redacted.
 *
 * What maps: `display_name`, `session_id`, `is_enabled` (→ `enabled`), `filter` (passed through as
 * written; none → `true`, every run), `sampling_rate`, `webhooks[{url, headers}]`. LangSmith has no
 * window: a rule created here gets the contract's default (`{seconds: 5, max_runs: 100}`), and a
 * PATCH keeps the window the rule has.
 */

/** A runhooks rule document, or the part of one a LangSmith body sets. */
export type RuleFields = Record<string, unknown>;

const WEBHOOK_FIELDS = new Set(["url", "headers"]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const NOT_A_FIELD =
  "is not a field of LangSmith's rules API; runhooks-only settings (window, signing_secret) are set through /rules";

function refusal(field: string, value: unknown): FieldIssue | undefined {
  if (isEmptyValue(value)) return undefined;
  const later = LANGSMITH_LATER_FIELDS.find((f) => f === field);
  if (later !== undefined && LANGSMITH_FIELDS_NOT_YET_SUPPORTED.includes(later)) {
    return {
      path: field,
      message: `is not supported yet (${LATER_FIELD_MEANING[later]}); remove the field or send null`,
    };
  }
  const feature = LANGSMITH_UNSUPPORTED_FIELDS[field];
  if (feature === undefined) return undefined;
  return {
    path: field,
    message: `is not supported: runhooks does not have ${feature}; its rules send webhooks only. Remove the field or send null`,
  };
}

/**
 * LangSmith's webhooks (`[{url, headers}]`) as runhooks webhooks. A webhook of `current` with the
 * same URL (or whose redacted URL is the one sent) keeps its signing secret: LangSmith's shape has
 * no field for it, so a LangSmith client editing a rule must not drop one set through `/rules`.
 */
function webhooksOf(value: unknown, current: StoredRule | undefined, issues: FieldIssue[]): unknown {
  if (value === null) return [];
  if (!Array.isArray(value)) return value; // the rule's validation names it
  const unclaimed = new Set(current?.webhooks ?? []);
  return value.map((webhook: unknown, index) => {
    if (!isObject(webhook)) return webhook;
    for (const key of Object.keys(webhook)) {
      if (!WEBHOOK_FIELDS.has(key)) issues.push({ path: `webhooks[${index}].${key}`, message: NOT_A_FIELD });
    }
    const url = webhook["url"];
    const stored = [...unclaimed].find((w) => w.url === url || redactUrl(w.url) === url);
    if (stored) unclaimed.delete(stored);
    return {
      url,
      headers: webhook["headers"] ?? {},
      ...(stored?.signing_secret === undefined ? {} : { signing_secret: REDACTED_SIGNING_SECRET }),
      // Nor for a retry policy: a webhook keeps the one set through /rules.
      ...(stored?.retry === undefined ? {} : { retry: stored.retry }),
    };
  });
}

/** LangSmith's "no filter" (null, absent or blank) is runhooks' `true`: every run. */
function filterOf(value: unknown): unknown {
  return value === null || value === undefined || (typeof value === "string" && value.trim() === "") ? true : value;
}

/**
 * The runhooks fields a LangSmith body sets, or every refused field. `current`: the version a PATCH
 * applies to (its webhooks' signing secrets are kept).
 */
export function ruleFieldsFromLangSmith(body: unknown, current?: StoredRule): ParseResult<RuleFields> {
  if (!isObject(body)) return { ok: false, issues: [{ path: "(root)", message: "must be a JSON object (a rule)" }] };
  const issues: FieldIssue[] = [];
  const fields: RuleFields = {};
  for (const [key, value] of Object.entries(body)) {
    switch (key) {
      case "display_name":
      case "session_id":
        fields[key] = value;
        break;
      case "is_enabled":
        if (value !== null) fields["enabled"] = value;
        break;
      case "sampling_rate":
        if (value !== null) fields["sampling_rate"] = value;
        break;
      case "filter":
        fields["filter"] = filterOf(value);
        break;
      case "webhooks":
        fields["webhooks"] = webhooksOf(value, current, issues);
        break;
      default: {
        const refused = refusal(key, value);
        if (refused) issues.push(refused);
        else if (LANGSMITH_LATER_FIELDS.includes(key as LangSmithLaterField)) {
          // A later field that works: the rule judges it. An empty filter means none (a PATCH removes it).
          if (!isEmptyValue(value)) fields[key] = value;
          else if (key === "trace_filter" || key === "tree_filter") fields[key] = null;
        } else if (!(key in LANGSMITH_UNSUPPORTED_FIELDS) && !LANGSMITH_READ_ONLY_FIELDS.includes(key)) {
          issues.push({ path: key, message: NOT_A_FIELD });
        }
      }
    }
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: fields };
}

/** The rule document a LangSmith create body describes; LangSmith's defaults where it is silent. */
export function createdRuleDocument(fields: RuleFields): RuleFields {
  return { ...fields, filter: fields["filter"] ?? true };
}

/** The rule document a LangSmith PATCH leaves: the current version with the fields sent replaced. */
export function patchedRuleDocument(current: StoredRule, fields: RuleFields): RuleFields {
  const merged: RuleFields = { ...current, ...fields };
  if (!("webhooks" in fields)) merged["webhooks"] = withoutUnsendableHeaders(current.webhooks);
  return merged;
}

/** Issues of the runhooks rule document, named as the LangSmith body names the fields. */
export function langSmithIssues(issues: readonly FieldIssue[]): FieldIssue[] {
  return issues.map((i) =>
    i.path === "enabled" || i.path.startsWith("enabled.") ? { ...i, path: `is_${i.path}` } : i,
  );
}

/**
 * A rule in LangSmith's shape (`RunRulesSchema`). `sessionName`: the project's name, if known;
 * `backfill`: the rule's newest backfill, if it has one (its `backfill_*` fields).
 */
export function langSmithRuleView(record: RuleRecord, sessionName: string | null, backfill?: BackfillRecord) {
  const { rule } = record;
  // Fields the contract may gain (LANGSMITH_LATER_FIELDS) are read by name; absent, they are null.
  const later = rule as Readonly<Record<string, unknown>>;
  return {
    id: rule.id,
    tenant_id: rule.tenant_id,
    display_name: rule.display_name,
    session_id: rule.session_id ?? null,
    session_name: sessionName,
    dataset_id: null,
    dataset_name: null,
    is_enabled: rule.enabled,
    filter: rule.filter === true ? null : rule.filter,
    trace_filter: later["trace_filter"] ?? null,
    tree_filter: later["tree_filter"] ?? null,
    sampling_rate: rule.sampling_rate,
    webhooks: rule.webhooks.map((w) => {
      const shown = redactWebhook(w);
      return { url: shown.url, headers: shown.headers };
    }),
    created_at: record.createdAt.toISOString(),
    updated_at: record.updatedAt.toISOString(),
    ...langSmithBackfillFields(backfill),
  };
}
/**
 * The `backfill_*` fields of a rule's newest backfill: its start, id, state, progress as the percent
 * of its runs read (100 once it succeeded), error and end.
 */
function langSmithBackfillFields(b: BackfillRecord | undefined) {
  if (b === undefined)
    return {
      backfill_from: null,
      backfill_id: null,
      backfill_status: null,
      backfill_progress: null,
      backfill_error: null,
      backfill_completed_at: null,
    };
  const progress = b.state === "succeeded" ? 100 : b.runsTotal > 0 ? Math.floor((100 * b.runsRead) / b.runsTotal) : 0;
  return {
    backfill_from: b.from.toISOString(),
    backfill_id: b.id,
    backfill_status: b.state,
    backfill_progress: progress,
    backfill_error: b.error,
    backfill_completed_at: b.finishedAt?.toISOString() ?? null,
  };
}

export type LangSmithRuleView = ReturnType<typeof langSmithRuleView>;
