import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { RuleRecord } from "@runhooks/db";
import { parseLangSmithRuleQuery, selectLangSmithRules } from "../src/rules/langsmith-rule-query.js";

const tenantId = randomUUID();
const [p1, p2] = [randomUUID(), randomUUID()];

function record(display_name: string, session_id: string | null): RuleRecord {
  return {
    rule: {
      id: randomUUID(),
      tenant_id: tenantId,
      display_name,
      session_id,
      enabled: true,
      filter: true,
      sampling_rate: 1,
      window: { seconds: 5, max_runs: 100 },
      webhooks: [],
    },
    version: 1,
    createdAt: new Date(0),
    updatedAt: new Date(0),
    effectiveFrom: null,
  };
}

const errors = record("LLM Errors", p1);
const slow = record("slow chains", p1);
const other = record("errors elsewhere", p2);
const anywhere = record("everything", null);
const all = [errors, slow, other, anywhere];
const name = (r: RuleRecord) => r.rule.display_name;

describe("GET /api/v1/runs/rules query", () => {
  const cases: [string, Record<string, unknown>, RuleRecord[]][] = [
    ["no parameters: every rule", {}, all],
    ["one project", { session_id: p1 }, [errors, slow]],
    ["a project in capitals", { session_id: p2.toUpperCase() }, [other]],
    ["several projects", { session_id: [p1, p2] }, [errors, slow, other]],
    ["a name, in any case", { name_contains: "ERRORS" }, [errors, other]],
    ["a name within a project", { name_contains: "errors", session_id: p2 }, [other]],
    ["ids repeated", { id: [errors.rule.id, anywhere.rule.id] }, [errors, anywhere]],
    ["ids as id[]", { "id[]": slow.rule.id }, [slow]],
    ["ids in both forms", { id: errors.rule.id, "id[]": [slow.rule.id] }, [errors, slow]],
    ["a dataset: none (runhooks has no dataset rules)", { dataset_id: randomUUID() }, []],
    ["type=dataset: none", { type: "dataset" }, []],
    ["type=session: every rule", { type: "session" }, all],
  ];
  it.each(cases)("selects %s", (_name, raw, expected) => {
    const query = parseLangSmithRuleQuery(raw);
    if (!query.ok) throw new Error(JSON.stringify(query.issues));
    expect(selectLangSmithRules(all, query.value).map(name)).toEqual(expected.map(name));
  });

  const refusals: [string, Record<string, unknown>, string[]][] = [
    ["a malformed project id", { session_id: "support-bot" }, ["session_id"]],
    ["a malformed rule id among others", { id: [errors.rule.id, "nope"] }, ["id[1]"]],
    ["a malformed dataset id", { dataset_id: "x" }, ["dataset_id"]],
    ["an unknown type", { type: "thread" }, ["type"]],
    ["two names", { name_contains: ["a", "b"] }, ["name_contains"]],
    ["an unknown parameter", { limit: "10" }, ["limit"]],
  ];
  it.each(refusals)("refuses %s, naming it", (_name, raw, paths) => {
    const query = parseLangSmithRuleQuery(raw);
    if (query.ok) throw new Error("expected a refusal");
    expect(query.issues.map((i) => i.path)).toEqual(paths);
  });
});
