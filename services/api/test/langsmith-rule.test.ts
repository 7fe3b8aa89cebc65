import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { BackfillRecord, RuleRecord, StoredRule } from "@runhooks/db";
import {
  LANGSMITH_FIELDS_NOT_YET_SUPPORTED,
  LANGSMITH_LATER_FIELDS,
  LANGSMITH_UNSUPPORTED_FIELDS,
} from "../src/rules/langsmith-fields.js";
import {
  createdRuleDocument,
  langSmithIssues,
  langSmithRuleView,
  patchedRuleDocument,
  ruleFieldsFromLangSmith,
} from "../src/rules/langsmith-rule.js";
import { parseRuleDocument } from "../src/rules/rule-input.js";

const tenantId = randomUUID();
const session = randomUUID();
const llmErrors = { and: [{ "==": [{ var: "run_type" }, "llm"] }, { "==": [{ var: "status" }, "error"] }] };

const stored: StoredRule = {
  id: randomUUID(),
  tenant_id: tenantId,
  display_name: "LLM errors",
  session_id: session,
  enabled: true,
  filter: llmErrors,
  sampling_rate: 0.5,
  window: { seconds: 30, max_runs: 10 },
  webhooks: [
    {
      id: randomUUID(),
      url: "https://hooks.example.com/in?secret=s3cr3t-value&team=ml",
      headers: { "x-token": "header-s3cr3t" },
      signing_secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    },
  ],
};

function fields(body: unknown, current?: StoredRule) {
  const result = ruleFieldsFromLangSmith(body, current);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.value;
}

function refused(body: unknown) {
  const result = ruleFieldsFromLangSmith(body);
  if (result.ok) throw new Error("expected a refusal");
  return result.issues;
}

describe("LangSmith body → runhooks rule fields", () => {
  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ["names that are the same", { display_name: "x", session_id: session }, { display_name: "x", session_id: session }],
    ["is_enabled as enabled", { is_enabled: false }, { enabled: false }],
    ["is_enabled null as its default", { is_enabled: null }, {}],
    ["sampling_rate as it is", { sampling_rate: 0.25 }, { sampling_rate: 0.25 }],
    ["sampling_rate null as its default", { sampling_rate: null }, {}],
    ["a JSON-logic filter as written", { filter: llmErrors }, { filter: llmErrors }],
    ["a string filter as written", { filter: 'eq(run_type, "llm")' }, { filter: 'eq(run_type, "llm")' }],
    ["a null filter as every run", { filter: null }, { filter: true }],
    ["a blank filter as every run", { filter: "  " }, { filter: true }],
    ["session_id null: every project", { session_id: null }, { session_id: null }],
    [
      "webhooks with and without headers",
      { webhooks: [{ url: "https://a.example/h", headers: { "x-k": "v" } }, { url: "https://b.example/h" }] },
      {
        webhooks: [
          { url: "https://a.example/h", headers: { "x-k": "v" } },
          { url: "https://b.example/h", headers: {} },
        ],
      },
    ],
    [
      "webhook headers null",
      { webhooks: [{ url: "https://a.example/h", headers: null }] },
      {
        webhooks: [{ url: "https://a.example/h", headers: {} }],
      },
    ],
    ["webhooks null as none", { webhooks: null }, { webhooks: [] }],
    [
      "empty action fields, as SDKs send them",
      {
        add_to_dataset_id: null,
        add_to_dataset_prefer_correction: false,
        evaluators: [],
        code_evaluators: null,
        alerts: [],
        extend_only: false,
        group_by: null,
        spend_limit: {},
        dataset_id: null,
        trace_filter: null,
        tree_filter: "",
        backfill_from: null,
      },
      // An empty trace or tree filter means none, which a PATCH sends to remove it.
      { trace_filter: null, tree_filter: null },
    ],
    [
      "read-only fields of an answer sent back",
      { id: randomUUID(), tenant_id: randomUUID(), session_name: "p", created_at: "x", backfill_status: null },
      {},
    ],
  ];
  it.each(cases)("maps %s", (_name, body, expected) => {
    expect(fields(body)).toEqual(expected);
  });

  it("keeps the signing secret of a webhook a PATCH sends back by its URL or its redacted URL", () => {
    const sentBack = { webhooks: [{ url: "https://hooks.example.com/in?secret=***&team=ml", headers: {} }] };
    expect(fields(sentBack, stored)).toEqual({
      webhooks: [{ url: sentBack.webhooks[0]!.url, headers: {}, signing_secret: "whsec_***" }],
    });
    const sameUrl = { webhooks: [{ url: stored.webhooks[0]!.url }] };
    expect(fields(sameUrl, stored)["webhooks"]).toEqual([
      { url: stored.webhooks[0]!.url, headers: {}, signing_secret: "whsec_***" },
    ]);
    const elsewhere = { webhooks: [{ url: "https://other.example/h" }, { url: stored.webhooks[0]!.url }] };
    expect(fields(elsewhere, stored)["webhooks"]).toEqual([
      { url: "https://other.example/h", headers: {} },
      { url: stored.webhooks[0]!.url, headers: {}, signing_secret: "whsec_***" },
    ]);
  });
});

function laterValue(field: string): string {
  return field === "backfill_from" ? "2024-01-01T00:00:00Z" : "eq(is_root, true)";
}

describe("LangSmith body refusals", () => {
  const cases: [string, Record<string, unknown>, string, string][] = [
    ["a dataset to add runs to", { add_to_dataset_id: randomUUID() }, "add_to_dataset_id", "adding runs to datasets"],
    ["prefer-correction", { add_to_dataset_prefer_correction: true }, "add_to_dataset_prefer_correction", "datasets"],
    ["an annotation queue", { add_to_annotation_queue_id: randomUUID() }, "add_to_annotation_queue_id", "queues"],
    ["evaluators", { evaluators: [{ structured: {} }] }, "evaluators", "LLM-as-judge evaluators"],
    ["code evaluators", { code_evaluators: [{ code: "x" }] }, "code_evaluators", "code evaluators"],
    ["a saved evaluator", { evaluator_id: randomUUID() }, "evaluator_id", "evaluators"],
    ["PagerDuty alerts", { alerts: [{ type: "PAGERDUTY" }] }, "alerts", "PagerDuty alerts"],
    ["extend_only", { extend_only: true }, "extend_only", "trace retention"],
    ["group_by", { group_by: "thread_id" }, "group_by", "threads"],
    ["a spend limit", { spend_limit: { amount: 1 } }, "spend_limit", "spend limits"],
    ["a dataset scope", { dataset_id: randomUUID() }, "dataset_id", "rules over datasets"],
    ["an unknown field", { colour: "blue" }, "colour", "is not a field of LangSmith's rules API"],
    ["an unknown field, even null", { colour: null }, "colour", "is not a field"],
    ["a runhooks-only field", { window: { seconds: 5, max_runs: 1 } }, "window", "set through /rules"],
    [
      "an unknown webhook field",
      { webhooks: [{ url: "https://a.example/", secret: "x" }] },
      "webhooks[0].secret",
      "is not a field",
    ],
  ];
  it.each(cases)("refuses %s, naming it", (_name, body, path, text) => {
    const issues = refused(body);
    expect(issues.map((i) => i.path)).toEqual([path]);
    expect(issues[0]!.message).toContain(text);
  });

  it("says every action field it refuses is one runhooks does not have", () => {
    for (const field of Object.keys(LANGSMITH_UNSUPPORTED_FIELDS)) {
      const [issue, ...rest] = refused({ [field]: field.endsWith("_id") ? randomUUID() : true });
      expect(rest).toEqual([]);
      expect(issue).toMatchObject({ path: field });
      expect(issue!.message).toMatch(/^is not supported: runhooks does not have .+; its rules send webhooks only/);
    }
  });

  it("refuses each later field still listed with 'not supported yet'", () => {
    for (const field of LANGSMITH_FIELDS_NOT_YET_SUPPORTED) {
      const issues = refused({ [field]: laterValue(field) });
      expect(issues.map((i) => i.path)).toEqual([field]);
      expect(issues[0]!.message).toMatch(/^is not supported yet \(.+\); remove the field or send null$/);
    }
  });

  it("passes each later field no longer listed to the rule under its own name", () => {
    for (const field of LANGSMITH_LATER_FIELDS.filter((f) => !LANGSMITH_FIELDS_NOT_YET_SUPPORTED.includes(f))) {
      expect(fields({ [field]: laterValue(field) })).toEqual({ [field]: laterValue(field) });
    }
    for (const field of LANGSMITH_LATER_FIELDS) {
      const removes = field === "trace_filter" || field === "tree_filter";
      expect(fields({ [field]: null })).toEqual(removes ? { [field]: null } : {});
    }
  });

  it("reports every refused field at once, and refuses a body that is not an object", () => {
    const issues = refused({ alerts: [{}], extend_only: true, colour: 1, display_name: "ok" });
    expect(issues.map((i) => i.path).sort()).toEqual(["alerts", "colour", "extend_only"]);
    expect(refused([1, 2])).toEqual([{ path: "(root)", message: "must be a JSON object (a rule)" }]);
  });
});

describe("documents and validation", () => {
  it("a created rule gets every run for no filter, runhooks' window and sampling defaults", () => {
    const document = parseRuleDocument(createdRuleDocument(fields({ display_name: "all" })), { tenantId });
    if (!document.ok) throw new Error(JSON.stringify(document.issues));
    expect(document.value.rule).toMatchObject({
      filter: true,
      enabled: true,
      sampling_rate: 1,
      window: { seconds: 5, max_runs: 100 },
      webhooks: [],
    });
    expect(document.value.rule.session_id ?? null).toBeNull();
  });

  it("a patch keeps what it does not name, window included", () => {
    const merged = patchedRuleDocument(stored, fields({ is_enabled: false, display_name: "renamed" }));
    expect(merged).toMatchObject({
      enabled: false,
      display_name: "renamed",
      window: stored.window,
      filter: llmErrors,
      session_id: session,
      sampling_rate: 0.5,
    });
    expect(merged["webhooks"]).toEqual(stored.webhooks);
  });

  it("names the validation's issues as LangSmith names the fields", () => {
    const document = parseRuleDocument(createdRuleDocument(fields({ display_name: "x", is_enabled: "yes" })), {
      tenantId,
    });
    if (document.ok) throw new Error("expected a refusal");
    expect(langSmithIssues(document.issues).map((i) => i.path)).toEqual(["is_enabled"]);
    expect(langSmithIssues([{ path: "filter.and[0]", message: "m" }])).toEqual([
      { path: "filter.and[0]", message: "m" },
    ]);
  });
});

describe("runhooks rule → LangSmith's answer", () => {
  const record: RuleRecord = {
    rule: stored,
    version: 3,
    createdAt: new Date("2026-01-02T03:04:05.000Z"),
    updatedAt: new Date("2026-01-03T03:04:05.000Z"),
    effectiveFrom: null,
  };

  it("shows LangSmith's fields, secrets redacted, no backfill as null", () => {
    expect(langSmithRuleView(record, "support-bot")).toEqual({
      id: stored.id,
      tenant_id: tenantId,
      display_name: "LLM errors",
      session_id: session,
      session_name: "support-bot",
      dataset_id: null,
      dataset_name: null,
      is_enabled: true,
      filter: llmErrors,
      trace_filter: null,
      tree_filter: null,
      sampling_rate: 0.5,
      webhooks: [{ url: "https://hooks.example.com/in?secret=***&team=ml", headers: { "x-token": "***" } }],
      created_at: "2026-01-02T03:04:05.000Z",
      updated_at: "2026-01-03T03:04:05.000Z",
      backfill_from: null,
      backfill_id: null,
      backfill_status: null,
      backfill_progress: null,
      backfill_error: null,
      backfill_completed_at: null,
    });
  });

  const backfill: BackfillRecord = {
    id: "0b6e3f4c-8a51-4d4a-9b0e-1f2a3b4c5d6e",
    tenantId,
    ruleId: stored.id,
    ruleVersion: 3,
    from: new Date("2026-01-01T00:00:00.000Z"),
    to: null,
    state: "running",
    offsets: null,
    runsTotal: 3000,
    runsRead: 1000,
    windowsSent: 4,
    checkpoint: null,
    fencingToken: 1,
    error: null,
    createdAt: new Date("2026-01-02T03:04:05.000Z"),
    startedAt: new Date("2026-01-02T03:04:06.000Z"),
    updatedAt: new Date("2026-01-02T03:04:07.000Z"),
    finishedAt: null,
  };

  it.each([
    [
      "running, a third read",
      backfill,
      { backfill_status: "running", backfill_progress: 33, backfill_completed_at: null },
    ],
    [
      "pending, nothing to read yet",
      { ...backfill, state: "pending", runsTotal: 0, runsRead: 0 } as const,
      { backfill_status: "pending", backfill_progress: 0 },
    ],
    [
      "succeeded over an empty range",
      {
        ...backfill,
        state: "succeeded",
        runsTotal: 0,
        runsRead: 0,
        finishedAt: new Date("2026-01-02T04:00:00.000Z"),
      } as const,
      { backfill_status: "succeeded", backfill_progress: 100, backfill_completed_at: "2026-01-02T04:00:00.000Z" },
    ],
    [
      "failed, its error shown",
      { ...backfill, state: "failed", error: "the runs log could not be read" } as const,
      { backfill_status: "failed", backfill_error: "the runs log could not be read" },
    ],
  ])("shows the newest backfill: %s", (_, b, expected) => {
    expect(langSmithRuleView(record, null, b)).toMatchObject({
      backfill_from: "2026-01-01T00:00:00.000Z",
      backfill_id: backfill.id,
      ...expected,
    });
  });

  it("shows a match-everything filter and a missing project as LangSmith does: null", () => {
    const everyRun = langSmithRuleView({ ...record, rule: { ...stored, filter: true, session_id: null } }, null);
    expect(everyRun).toMatchObject({ filter: null, session_id: null, session_name: null });
    const text = JSON.stringify(langSmithRuleView(record, null));
    for (const secret of ["s3cr3t-value", "header-s3cr3t", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]) {
      expect(text).not.toContain(secret);
    }
  });
});
