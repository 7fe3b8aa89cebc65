/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument --
   the JSON answers of the API under test; the assertions are what check their shape. */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectNames, recordProjects, webhooksOfRuleVersion } from "@runhooks/db";
import { ensureTopics, topicSpecs } from "@runhooks/kafka";
import { projectId } from "@runhooks/rules";
import { testKafka } from "../../../test/support/stack.js";
import { LANGSMITH_FIELDS_NOT_YET_SUPPORTED } from "../src/rules/langsmith-fields.js";
import { startTestApi, type TestApi } from "./support/api-harness.js";

/** Small quotas, so a test reaches them in a few requests; each test has tenants of its own. */
const LIMITS = { rules: { maxRulesPerTenant: 3, maxVersionsPerMinute: 30 }, maxReplayRangeMs: 3_600_000 };
const PATH = "/api/v1/runs/rules";

const URL_SECRET = "url-secret-5e0b7c";
const HEADER_SECRET = "header-secret-a81f3d";
const SIGNING_SECRET = "whsec_Zq3LkV8mWn2RtYp5Xc7Bd9Gf1Hj4Ks6A";
const SECRETS = [URL_SECRET, HEADER_SECRET, SIGNING_SECRET, "Zq3LkV8mWn2RtYp5Xc7Bd9Gf1Hj4Ks6A"];

const LLM_ERRORS = { and: [{ "==": [{ var: "run_type" }, "llm"] }, { "==": [{ var: "status" }, "error"] }] };

/** The fields of every rule this API answers (LangSmith's `RunRulesSchema`, as far as runhooks has them). */
const ANSWER_FIELDS = [
  "backfill_completed_at",
  "backfill_error",
  "backfill_from",
  "backfill_id",
  "backfill_progress",
  "backfill_status",
  "created_at",
  "dataset_id",
  "dataset_name",
  "display_name",
  "filter",
  "id",
  "is_enabled",
  "sampling_rate",
  "session_id",
  "session_name",
  "tenant_id",
  "trace_filter",
  "tree_filter",
  "updated_at",
  "webhooks",
];

function langSmithRule(patch: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    display_name: "LLM errors",
    session_id: randomUUID(),
    is_enabled: true,
    sampling_rate: 1,
    filter: LLM_ERRORS,
    webhooks: [
      { url: `https://hooks.example.com/in?secret=${URL_SECRET}&team=ml`, headers: { "x-token": HEADER_SECRET } },
    ],
    ...patch,
  };
}

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi("langsmith-rules", { limits: LIMITS });
});
afterAll(async () => {
  await api?.close();
});

describe("LangSmith's rules API", () => {
  it("needs an API key like every tenant route", async () => {
    expect((await api.call("GET", PATH)).status).toBe(401);
    expect((await api.call("POST", PATH, { key: "rh_wrong", body: langSmithRule() })).status).toBe(401);
  });

  it("names the rule's project in session_name when the tenant has that project", async () => {
    const t = await api.newTenant("session-name");
    const other = await api.newTenant("session-name-other");
    const session = projectId(t.tenantId, "support-bot");
    await recordProjects(api.database.db, t.tenantId, [{ id: session, name: "support-bot" }], 10);
    const created = await api.call("POST", PATH, { key: t.key, body: langSmithRule({ session_id: session }) });
    expect(created.body).toMatchObject({ session_id: session, session_name: "support-bot" });
    const listed = await api.call("GET", PATH, { key: t.key });
    expect(listed.body[0]).toMatchObject({ session_name: "support-bot" });
    // Another tenant naming the same id learns nothing of the project.
    const theirs = await api.call("POST", PATH, { key: other.key, body: langSmithRule({ session_id: session }) });
    expect(theirs.body).toMatchObject({ session_id: session, session_name: null });
    expect(await projectNames(api.database.db, other.tenantId, [session])).toEqual(new Map());
  });

  it("creates, lists, filters, patches and deletes a rule, in LangSmith's shapes, over the one rule store", async () => {
    const t = await api.newTenant("crud");
    const session = randomUUID();
    const created = await api.call("POST", PATH, { key: t.key, body: langSmithRule({ session_id: session }) });
    expect(created.status).toBe(200);
    expect(Object.keys(created.body).sort()).toEqual(ANSWER_FIELDS);
    const rule = created.body;
    expect(rule).toMatchObject({
      tenant_id: t.tenantId,
      display_name: "LLM errors",
      session_id: session,
      session_name: null,
      is_enabled: true,
      filter: LLM_ERRORS,
      sampling_rate: 1,
      dataset_id: null,
      backfill_status: null,
    });
    expect(rule.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.headers.get("etag")).toBe('"1"');

    const other = await api.call("POST", PATH, {
      key: t.key,
      body: { display_name: "Everything, sampled", sampling_rate: 0.1 },
    });
    expect(other.status).toBe(200);
    expect(other.body).toMatchObject({ filter: null, session_id: null, is_enabled: true, webhooks: [] });

    const list = await api.call("GET", PATH, { key: t.key });
    expect(list.status).toBe(200);
    expect(list.body.map((r: { id: string }) => r.id)).toEqual([rule.id, other.body.id]);
    expect(list.body[0]).toEqual(rule);
    const bySession = await api.call("GET", `${PATH}?session_id=${session}`, { key: t.key });
    expect(bySession.body.map((r: { id: string }) => r.id)).toEqual([rule.id]);
    const byName = await api.call("GET", `${PATH}?name_contains=SAMPLED`, { key: t.key });
    expect(byName.body.map((r: { id: string }) => r.id)).toEqual([other.body.id]);
    const byIds = await api.call("GET", `${PATH}?id=${rule.id}&id=${other.body.id}`, { key: t.key });
    expect(byIds.body).toHaveLength(2);
    const byDataset = await api.call("GET", `${PATH}?dataset_id=${randomUUID()}`, { key: t.key });
    expect(byDataset).toMatchObject({ status: 200, body: [] });

    // The native API sees the same rule, with runhooks' defaults where LangSmith has nothing.
    const native = await api.call("GET", `/rules/${rule.id}`, { key: t.key });
    expect(native.body).toMatchObject({ enabled: true, window: { seconds: 5, max_runs: 100 }, version: 1 });

    const disabled = await api.call("PATCH", `${PATH}/${rule.id}`, { key: t.key, body: { is_enabled: false } });
    expect(disabled).toMatchObject({
      status: 200,
      body: { id: rule.id, is_enabled: false, display_name: "LLM errors" },
    });
    expect(disabled.headers.get("etag")).toBe('"2"');
    const renamed = await api.call("PATCH", `${PATH}/${rule.id}`, { key: t.key, body: { display_name: "renamed" } });
    expect(renamed.body).toMatchObject({ display_name: "renamed", is_enabled: false, filter: LLM_ERRORS });
    expect(renamed.body.session_id).toBe(session);

    const deleted = await api.call("DELETE", `${PATH}/${rule.id}`, { key: t.key });
    expect(deleted).toMatchObject({ status: 200, body: {} });
    expect((await api.call("DELETE", `${PATH}/${rule.id}`, { key: t.key })).status).toBe(404);
    const after = await api.call("GET", PATH, { key: t.key });
    expect(after.body.map((r: { id: string }) => r.id)).toEqual([other.body.id]);

    // The same events as the native API writes: a disable is "disabled", each one a version.
    const history = await api.call("GET", `/rules/${rule.id}/history`, { key: t.key });
    expect(history.body.events.map((e: { version: number; type: string }) => [e.version, e.type])).toEqual([
      [1, "created"],
      [2, "disabled"],
      [3, "updated"],
      [4, "deleted"],
    ]);
  });

  it("publishes a version on the rules topic like a native write", async () => {
    const t = await api.newTenant("published");
    const created = await api.call("POST", PATH, { key: t.key, body: langSmithRule() });
    const deadline = Date.now() + 30_000;
    let effective: string | null = null;
    while (effective === null && Date.now() < deadline) {
      effective = (await api.call("GET", `/rules/${created.body.id}`, { key: t.key })).body.effective_from;
      if (effective === null) await new Promise((r) => setTimeout(r, 100));
    }
    expect(effective).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it("keeps the native API's concurrency: a stale If-Match is a 409, nothing changes", async () => {
    const t = await api.newTenant("concurrency");
    const created = await api.call("POST", PATH, { key: t.key, body: langSmithRule() });
    const id = created.body.id as string;
    await api.call("PATCH", `${PATH}/${id}`, { key: t.key, body: { display_name: "v2" } });
    const stale = await api.call("PATCH", `${PATH}/${id}`, {
      key: t.key,
      body: { display_name: "v3" },
      headers: { "if-match": '"1"' },
    });
    expect(stale).toMatchObject({ status: 409, body: { error: "version_conflict", current_version: 2 } });
    const staleDelete = await api.call("DELETE", `${PATH}/${id}`, { key: t.key, headers: { "if-match": '"1"' } });
    expect(staleDelete.status).toBe(409);
    const list = await api.call("GET", `${PATH}?id=${id}`, { key: t.key });
    expect(list.body[0].display_name).toBe("v2");
  });

  it("counts against the same quotas as native rules", async () => {
    const t = await api.newTenant("quota");
    await api.call("POST", "/rules", { key: t.key, body: { display_name: "native", filter: true } });
    for (let i = 0; i < 2; i++) {
      expect((await api.call("POST", PATH, { key: t.key, body: langSmithRule() })).status).toBe(200);
    }
    const over = await api.call("POST", PATH, { key: t.key, body: langSmithRule() });
    expect(over).toMatchObject({ status: 403, body: { error: "quota_exceeded", quota: { name: "rules_per_tenant" } } });
  });
});

describe("refusals: each a 400 naming the field, nothing written", () => {
  const cases: [string, Record<string, unknown>, string, string][] = [
    ["adding to a dataset", { add_to_dataset_id: randomUUID() }, "add_to_dataset_id", "runhooks does not have"],
    [
      "an annotation queue",
      { add_to_annotation_queue_id: randomUUID() },
      "add_to_annotation_queue_id",
      "does not have",
    ],
    ["evaluators", { evaluators: [{ structured: { prompt: [["system", "x"]] } }] }, "evaluators", "does not have"],
    ["code evaluators", { code_evaluators: [{ code: "def f(run): 1" }] }, "code_evaluators", "does not have"],
    ["PagerDuty alerts", { alerts: [{ type: "PAGERDUTY", routing_key: "k" }] }, "alerts", "PagerDuty"],
    ["extend_only", { extend_only: true }, "extend_only", "does not have"],
    ["a dataset scope", { dataset_id: randomUUID(), session_id: null }, "dataset_id", "rules over datasets"],
    ["an unknown field", { colour: "blue" }, "colour", "is not a field of LangSmith's rules API"],
    ["a runhooks-only field", { window: { seconds: 5, max_runs: 1 } }, "window", "/rules"],
    ["a sampling rate above 1", { sampling_rate: 1.5 }, "sampling_rate", "between 0 and 1"],
    ["a non-boolean is_enabled", { is_enabled: "yes" }, "is_enabled", "boolean"],
    ["a bad webhook URL", { webhooks: [{ url: "ftp://example.com/x" }] }, "webhooks[0].url", "http"],
    [
      "a webhook field LangSmith lacks",
      { webhooks: [{ url: "https://a.example/", signing_secret: "x" }] },
      "webhooks[0].signing_secret",
      "/rules",
    ],
    ["a bad JSON-logic operator", { filter: { regex_match: [{ var: "name" }, ".*"] } }, "filter.regex_match", ""],
    ["a malformed project id", { session_id: "support-bot" }, "session_id", "UUID"],
  ];
  for (const field of LANGSMITH_FIELDS_NOT_YET_SUPPORTED) {
    const value = field === "backfill_from" ? "2024-01-01T00:00:00Z" : { "==": [{ var: "is_root" }, true] };
    cases.push([`${field} (later work)`, { [field]: value }, field, "is not supported yet"]);
  }

  it.each(cases)("refuses %s", async (_name, patch, path, text) => {
    const t = await api.newTenant(`refusal ${path}`);
    const answer = await api.call("POST", PATH, { key: t.key, body: langSmithRule(patch) });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe("invalid_rule");
    const issue = (answer.body.issues as { path: string; message: string }[]).find((i) => i.path === path);
    expect(issue?.message).toContain(text);
    expect(answer.body.message).toContain(path);
    expect((await api.call("GET", PATH, { key: t.key })).body).toEqual([]);
  });

  it("refuses the same on PATCH, and leaves the rule as it was", async () => {
    const t = await api.newTenant("patch refusals");
    const created = await api.call("POST", PATH, { key: t.key, body: langSmithRule() });
    const id = created.body.id as string;
    const answer = await api.call("PATCH", `${PATH}/${id}`, {
      key: t.key,
      body: { is_enabled: false, alerts: [{ type: "PAGERDUTY" }], colour: "red" },
    });
    expect(answer.status).toBe(400);
    expect((answer.body.issues as { path: string }[]).map((i) => i.path).sort()).toEqual(["alerts", "colour"]);
    const list = await api.call("GET", PATH, { key: t.key });
    expect(list.body).toEqual([created.body]);
  });

  it("starts a backfill of the created rule from backfill_from, and refuses one that is not a past time", async () => {
    const t = await api.newTenant("backfill from");
    // The range is checked against the runs topic: this API alone has none yet.
    const admin = testKafka("langsmith-backfill").admin();
    await admin.connect();
    await ensureTopics(admin, topicSpecs({ prefix: api.topicPrefix, runsPartitions: 1 }));
    await admin.disconnect();
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const created = await api.call("POST", PATH, { key: t.key, body: langSmithRule({ backfill_from: from }) });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const id = created.body.id as string;
    const backfills = await api.call("GET", `/rules/${id}/backfills`, { key: t.key });
    expect(backfills.body.backfills).toMatchObject([{ rule_id: id, rule_version: 1, from, state: "pending" }]);
    // LangSmith's view of the rule names its backfill, in the answer and in the list.
    const [started] = backfills.body.backfills as { id: string }[];
    const shown = { backfill_from: from, backfill_id: started!.id, backfill_status: "pending", backfill_progress: 0 };
    expect(created.body).toMatchObject(shown);
    const listed = await api.call("GET", PATH, { key: t.key });
    expect(listed.body).toMatchObject([shown]);
    const refused = await api.call("POST", PATH, { key: t.key, body: langSmithRule({ backfill_from: "soon" }) });
    expect(refused.status).toBe(400);
    expect((refused.body.issues as { path: string }[]).map((i) => i.path)).toEqual(["backfill_from"]);
  });

  it("takes action fields sent empty, as SDKs send them", async () => {
    const t = await api.newTenant("empty actions");
    const answer = await api.call("POST", PATH, {
      key: t.key,
      body: langSmithRule({
        dataset_id: null,
        add_to_dataset_id: null,
        add_to_dataset_prefer_correction: false,
        add_to_annotation_queue_id: null,
        evaluators: [],
        code_evaluators: null,
        alerts: [],
        extend_only: false,
        backfill_from: null,
        trace_filter: null,
        tree_filter: null,
      }),
    });
    expect(answer.status).toBe(200);
  });

  it("refuses bad query parameters and rule ids, naming them", async () => {
    const t = await api.newTenant("bad queries");
    const query = await api.call("GET", `${PATH}?session_id=support-bot&limit=5`, { key: t.key });
    expect(query.status).toBe(400);
    expect((query.body.issues as { path: string }[]).map((i) => i.path)).toEqual(["limit", "session_id"]);
    const badId = await api.call("PATCH", `${PATH}/not-a-uuid`, { key: t.key, body: { is_enabled: false } });
    expect(badId.status).toBe(400);
    expect(badId.body.issues[0].path).toBe("id");
  });
});

describe("tenant isolation", () => {
  it("never shows, changes or deletes another tenant's rule", async () => {
    const a = await api.newTenant("isolation a");
    const b = await api.newTenant("isolation b");
    const created = await api.call("POST", PATH, { key: a.key, body: langSmithRule() });
    const id = created.body.id as string;
    expect((await api.call("GET", PATH, { key: b.key })).body).toEqual([]);
    expect((await api.call("GET", `${PATH}?id=${id}`, { key: b.key })).body).toEqual([]);
    const patch = await api.call("PATCH", `${PATH}/${id}`, { key: b.key, body: { is_enabled: false } });
    expect(patch.status).toBe(404);
    expect((await api.call("DELETE", `${PATH}/${id}`, { key: b.key })).status).toBe(404);
    const stillA = await api.call("GET", PATH, { key: a.key });
    expect(stillA.body).toEqual([created.body]);
  });
});

describe("secrets", () => {
  it("never shows a webhook secret, and a rule sent back as read keeps every stored secret", async () => {
    const t = await api.newTenant("secrets");
    const created = await api.call("POST", PATH, { key: t.key, body: langSmithRule() });
    const id = created.body.id as string;
    expect(created.body.webhooks).toEqual([
      { url: "https://hooks.example.com/in?secret=***&team=ml", headers: { "x-token": "***" } },
    ]);
    // A signing secret set through the native API survives LangSmith-shaped edits.
    const native = (await api.call("GET", `/rules/${id}`, { key: t.key })).body;
    native.webhooks[0].signing_secret = SIGNING_SECRET;
    expect((await api.call("PUT", `/rules/${id}`, { key: t.key, body: native })).status).toBe(200);

    const read = (await api.call("GET", PATH, { key: t.key })).body[0];
    const roundTrip = await api.call("PATCH", `${PATH}/${id}`, {
      key: t.key,
      body: { ...read, display_name: "edited" },
    });
    expect(roundTrip).toMatchObject({ status: 200, body: { display_name: "edited", webhooks: read.webhooks } });
    const stored = await webhooksOfRuleVersion(api.database.db, id, 3);
    expect(stored).toEqual([
      {
        id: native.webhooks[0].id,
        url: `https://hooks.example.com/in?secret=${URL_SECRET}&team=ml`,
        headers: { "x-token": HEADER_SECRET },
        signing_secret: SIGNING_SECRET,
      },
    ]);
    await api.call("GET", `${PATH}?id=${id}`, { key: t.key });
    await api.call("DELETE", `${PATH}/${id}`, { key: t.key });

    const everything = api.answers.join("\n");
    for (const secret of SECRETS) expect(everything).not.toContain(secret);
    const logs = api.logs.join("");
    for (const secret of [...SECRETS, t.key]) expect(logs).not.toContain(secret);
  });
});
