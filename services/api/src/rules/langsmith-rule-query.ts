import { Id, type FieldIssue, type ParseResult } from "@runhooks/contracts";
import type { RuleRecord } from "@runhooks/db";

/** What `GET /api/v1/runs/rules` asks for (LangSmith's query parameters). Pure. */
export interface LangSmithRuleQuery {
  /** `session_id` (repeatable): rules of these projects only. */
  readonly sessionIds: readonly string[] | undefined;
  /** `id` or `id[]` (repeatable): these rules only. */
  readonly ids: readonly string[] | undefined;
  /** `name_contains`: display names holding this text, in any case. */
  readonly nameContains: string | undefined;
  /**
   * `dataset_id` or `type=dataset`: rules over datasets. runhooks has none, so the answer is an empty
   * list — true, and what a tool listing a dataset's rules expects.
   */
  readonly datasetsOnly: boolean;
}

const KNOWN = ["session_id", "dataset_id", "name_contains", "id", "id[]", "type"];

function values(raw: unknown): string[] {
  if (raw === undefined) return [];
  return (Array.isArray(raw) ? raw : [raw]).map(String);
}

function ids(name: string, raw: readonly string[], issues: FieldIssue[]): string[] {
  raw.forEach((value, index) => {
    if (!Id.safeParse(value).success) {
      issues.push({ path: raw.length > 1 ? `${name}[${index}]` : name, message: "must be a UUID" });
    }
  });
  return raw.map((v) => v.toLowerCase());
}

function once(name: string, raw: readonly string[], issues: FieldIssue[]): string | undefined {
  if (raw.length > 1) issues.push({ path: name, message: "must be given at most once" });
  return raw[0];
}

/** The query string as Fastify parsed it (a repeated parameter is an array). */
export function parseLangSmithRuleQuery(query: Readonly<Record<string, unknown>>): ParseResult<LangSmithRuleQuery> {
  const issues: FieldIssue[] = [];
  for (const key of Object.keys(query)) {
    if (!KNOWN.includes(key)) {
      issues.push({ path: key, message: `is not a query parameter of this list (${KNOWN.join(", ")})` });
    }
  }
  const sessionIds = ids("session_id", values(query["session_id"]), issues);
  const ruleIds = ids("id", [...values(query["id"]), ...values(query["id[]"])], issues);
  const datasetIds = ids("dataset_id", values(query["dataset_id"]), issues);
  const nameContains = once("name_contains", values(query["name_contains"]), issues);
  const type = once("type", values(query["type"]), issues);
  if (type !== undefined && type !== "session" && type !== "dataset") {
    issues.push({ path: "type", message: 'must be "session" or "dataset"' });
  }
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    value: {
      sessionIds: sessionIds.length > 0 ? sessionIds : undefined,
      ids: ruleIds.length > 0 ? ruleIds : undefined,
      nameContains,
      datasetsOnly: datasetIds.length > 0 || type === "dataset",
    },
  };
}

/** The rules the query selects, in the order given. */
export function selectLangSmithRules(records: readonly RuleRecord[], query: LangSmithRuleQuery): RuleRecord[] {
  if (query.datasetsOnly) return [];
  const needle = query.nameContains?.toLowerCase();
  return records.filter(({ rule }) => {
    if (query.sessionIds && !query.sessionIds.includes(rule.session_id?.toLowerCase() ?? "")) return false;
    if (query.ids && !query.ids.includes(rule.id.toLowerCase())) return false;
    return needle === undefined || rule.display_name.toLowerCase().includes(needle);
  });
}
