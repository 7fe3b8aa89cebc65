/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument --
   the JSON answers of the API under test; the assertions are what check their shape. */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebhookPayload } from "@runhooks/contracts";
import { webhooksOfRuleVersion } from "@runhooks/db";
import { startTestApi, type TestApi } from "./support/api-harness.js";

const URL_SECRET = "url-secret-8d1f0a";
const HEADER_SECRET = "header-secret-77c2e9";
const SIGNING_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SECRETS = [URL_SECRET, HEADER_SECRET, SIGNING_SECRET, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "pa55w0rd-in-userinfo"];

function ruleBody(patch: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    display_name: "LLM errors",
    filter: { and: [{ "==": [{ var: "run_type" }, "llm"] }, { "==": [{ var: "status" }, "error"] }] },
    sampling_rate: 1,
    window: { seconds: 5, max_runs: 100 },
    webhooks: [
      {
        url: `https://hooks.example.com/in?secret=${URL_SECRET}&team=ml`,
        headers: { "x-hook-token": HEADER_SECRET, "x-team": "ml" },
        signing_secret: SIGNING_SECRET,
      },
      { url: "https://bot:pa55w0rd-in-userinfo@other.example.com/h" },
    ],
    ...patch,
  };
}

let api: TestApi;
let a: { tenantId: string; key: string };
let b: { tenantId: string; key: string };

beforeAll(async () => {
  api = await startTestApi("api");
  a = await api.newTenant("tenant a");
  b = await api.newTenant("tenant b");
});
afterAll(async () => {
  await api?.close();
});

describe("health and auth", () => {
  it("answers /healthz without a key", async () => {
    const health = await api.call("GET", "/healthz");
    expect(health).toMatchObject({ status: 200, body: { status: "ok" } });
  });

  it("refuses a missing, wrong or revoked key with 401, and accepts Authorization: Bearer", async () => {
    expect((await api.call("GET", "/rules")).status).toBe(401);
    expect((await api.call("GET", "/rules", { key: "rh_wrong" })).status).toBe(401);
    const bearer = await api.call("GET", "/rules", { headers: { authorization: `Bearer ${a.key}` } });
    expect(bearer.status).toBe(200);

    const extra = await api.call("POST", `/admin/tenants/${a.tenantId}/keys`, {
      key: api.adminKey,
      body: { description: "ci" },
    });
    expect(extra.status).toBe(201);
    const key = extra.body.api_key as { id: string; key: string };
    expect((await api.call("GET", "/rules", { key: key.key })).status).toBe(200);
    expect((await api.call("DELETE", `/admin/keys/${key.id}`, { key: api.adminKey })).status).toBe(200);
    expect((await api.call("GET", "/rules", { key: key.key })).status).toBe(401);
  });

  it("serves the deliveries routes with the same key lookup", async () => {
    expect(await api.call("GET", "/deliveries", { key: b.key })).toMatchObject({
      status: 200,
      body: { deliveries: [] },
    });
    expect((await api.call("GET", "/deliveries", { key: "rh_nope" })).status).toBe(401);
    expect((await api.call("GET", "/deliveries")).status).toBe(401);
  });

  it("keeps the admin routes to the admin key", async () => {
    expect((await api.call("POST", "/admin/tenants", { key: a.key, body: { name: "x" } })).status).toBe(401);
    expect((await api.call("POST", "/admin/tenants", { body: { name: "x" } })).status).toBe(401);
    const bad = await api.call("POST", "/admin/tenants", { key: api.adminKey, body: { name: "" } });
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].path).toBe("name");
    expect(
      (await api.call("POST", `/admin/tenants/${randomUUID()}/keys`, { key: api.adminKey, body: {} })).status,
    ).toBe(404);
  });
});

describe("rules CRUD", () => {
  it("creates, reads, lists, updates, disables and deletes a rule, with its history", async () => {
    const created = await api.call("POST", "/rules", { key: a.key, body: ruleBody() });
    expect(created.status).toBe(201);
    expect(created.body.result).toBe("created");
    const rule = created.body.rule;
    expect(rule.tenant_id).toBe(a.tenantId);
    expect(rule.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(rule.version).toBe(1);
    expect(created.headers.get("etag")).toBe('"1"');
    expect(rule.webhooks[0].id).toMatch(/^[0-9a-f-]{36}$/);

    const read = await api.call("GET", `/rules/${rule.id}`, { key: a.key });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(rule);

    const list = await api.call("GET", "/rules", { key: a.key });
    expect(list.body.rules.map((r: { id: string }) => r.id)).toContain(rule.id);

    const renamed = await api.call("PUT", `/rules/${rule.id}`, {
      key: a.key,
      body: ruleBody({ display_name: "renamed" }),
    });
    expect(renamed).toMatchObject({
      status: 200,
      body: { result: "updated", rule: { version: 2, display_name: "renamed" } },
    });
    // The same webhook targets keep their ids across versions.
    expect(renamed.body.rule.webhooks.map((w: { id: string }) => w.id)).toEqual(
      rule.webhooks.map((w: { id: string }) => w.id),
    );

    const disabled = await api.call("PATCH", `/rules/${rule.id}`, { key: a.key, body: { enabled: false } });
    expect(disabled).toMatchObject({
      status: 200,
      body: { result: "updated", rule: { version: 3, enabled: false, display_name: "renamed" } },
    });

    const deleted = await api.call("DELETE", `/rules/${rule.id}`, { key: a.key });
    expect(deleted).toMatchObject({ status: 200, body: { result: "deleted", version: 4 } });
    expect((await api.call("GET", `/rules/${rule.id}`, { key: a.key })).status).toBe(404);
    expect((await api.call("DELETE", `/rules/${rule.id}`, { key: a.key })).status).toBe(404);
    const after = await api.call("GET", "/rules", { key: a.key });
    expect(after.body.rules.map((r: { id: string }) => r.id)).not.toContain(rule.id);

    const history = await api.call("GET", `/rules/${rule.id}/history`, { key: a.key });
    expect(history.status).toBe(200);
    expect(history.body.events.map((e: { version: number; type: string }) => [e.version, e.type])).toEqual([
      [1, "created"],
      [2, "updated"],
      [3, "disabled"],
      [4, "deleted"],
    ]);
    expect(history.body.events[1].rule.display_name).toBe("renamed");
  });

  it("PUT is an idempotent upsert: created, then unchanged, then updated", async () => {
    const id = randomUUID();
    const first = await api.call("PUT", `/rules/${id}`, { key: a.key, body: ruleBody() });
    expect(first).toMatchObject({ status: 201, body: { result: "created", rule: { id, version: 1 } } });
    const second = await api.call("PUT", `/rules/${id}`, { key: a.key, body: ruleBody() });
    expect(second).toMatchObject({ status: 200, body: { result: "unchanged", rule: { version: 1 } } });
    const dry = await api.call("PUT", `/rules/${id}?dry_run=true`, {
      key: a.key,
      body: ruleBody({ sampling_rate: 0.5 }),
    });
    expect(dry).toMatchObject({ status: 200, body: { result: "updated", dry_run: true } });
    expect((await api.call("GET", `/rules/${id}`, { key: a.key })).body.version).toBe(1);
    const third = await api.call("PUT", `/rules/${id}`, { key: a.key, body: ruleBody({ sampling_rate: 0.5 }) });
    expect(third).toMatchObject({ status: 200, body: { result: "updated", rule: { version: 2, sampling_rate: 0.5 } } });
  });

  it("a rule read from the API and sent back unchanged stays unchanged, secrets intact", async () => {
    const created = await api.call("POST", "/rules", { key: a.key, body: ruleBody() });
    const id = created.body.rule.id as string;
    const read = await api.call("GET", `/rules/${id}`, { key: a.key });
    const roundTrip = await api.call("PUT", `/rules/${id}`, { key: a.key, body: read.body });
    expect(roundTrip).toMatchObject({ status: 200, body: { result: "unchanged", rule: { version: 1 } } });
    const edited = await api.call("PUT", `/rules/${id}`, {
      key: a.key,
      body: { ...read.body, display_name: "edited" },
    });
    expect(edited).toMatchObject({ status: 200, body: { result: "updated", rule: { version: 2 } } });
    const stored = await webhooksOfRuleVersion(api.database.db, id, 2);
    expect(stored?.[0]).toMatchObject({
      url: `https://hooks.example.com/in?secret=${URL_SECRET}&team=ml`,
      headers: { "x-hook-token": HEADER_SECRET, "x-team": "ml" },
      signing_secret: SIGNING_SECRET,
    });
  });

  it("shows a rule's trace fields, and a PATCH with null removes them", async () => {
    const trace = { trace_filter: { in: ["vip", { var: "tags" }] }, trace_horizon_seconds: 900 };
    const created = await api.call("POST", "/rules", { key: a.key, body: ruleBody(trace) });
    expect(created).toMatchObject({ status: 201, body: { rule: trace } });
    const id = created.body.rule.id as string;
    expect((await api.call("GET", `/rules/${id}`, { key: a.key })).body).toMatchObject(trace);
    const patched = await api.call("PATCH", `/rules/${id}`, {
      key: a.key,
      body: { trace_filter: null, trace_horizon_seconds: null, tree_filter: { "==": [{ var: "run_type" }, "tool"] } },
    });
    expect(patched).toMatchObject({
      status: 200,
      body: { rule: { version: 2, tree_filter: { "==": [{ var: "run_type" }, "tool"] } } },
    });
    expect(patched.body.rule).not.toHaveProperty("trace_filter");
    expect(patched.body.rule).not.toHaveProperty("trace_horizon_seconds");
    const refused = await api.call("PATCH", `/rules/${id}`, {
      key: a.key,
      body: { tree_filter: { method: [1, "x"] } },
    });
    expect(refused).toMatchObject({ status: 400, body: { issues: [{ path: "tree_filter.method" }] } });
  });

  it("publishes each version: effective_from is set once the relay has put it on the rules topic", async () => {
    const created = await api.call("POST", "/rules", { key: a.key, body: ruleBody() });
    const id = created.body.rule.id as string;
    expect(created.body.rule.effective_from).toBeNull();
    const deadline = Date.now() + 30_000;
    let effective: string | null = null;
    while (effective === null && Date.now() < deadline) {
      effective = (await api.call("GET", `/rules/${id}`, { key: a.key })).body.effective_from as string | null;
      if (effective === null) await new Promise((r) => setTimeout(r, 100));
    }
    expect(effective).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const history = await api.call("GET", `/rules/${id}/history`, { key: a.key });
    expect(history.body.events[0].effective_from).toBe(effective);
  });
});

describe("validation: every 400 names the offending path", () => {
  const deep = (levels: number): unknown => (levels === 0 ? { var: "status" } : { "!": [deep(levels - 1)] });
  const cases: [string, Record<string, unknown>, string][] = [
    ["an unknown operator", { filter: { regex_match: [{ var: "name" }, ".*"] } }, "filter.regex_match"],
    [
      "an unknown operator deep inside",
      { filter: { and: [true, { "==": [{ frobnicate: [] }, 1] }] } },
      "filter.and[1].==[0].frobnicate",
    ],
    ["a var path through __proto__", { filter: { and: [{ var: "__proto__.polluted" }] } }, "filter.and[0].var"],
    [
      "a var path through constructor",
      { filter: { "==": [{ var: ["extra.constructor"] }, 1] } },
      "filter.==[0].var[0]",
    ],
    ["a var path through prototype", { filter: { missing: ["a", "prototype.x"] } }, "filter.missing[1]"],
    // The first level past the limit (32) is named: 32 `!` levels down from the root.
    ["a too deeply nested filter", { filter: deep(40) }, `filter${".![0]".repeat(32)}`],
    [
      "an oversized filter",
      { filter: { in: [{ var: "name" }, Array.from({ length: 1500 }, (_, i) => `name-${"x".repeat(40)}-${i}`)] } },
      "filter",
    ],
    ["a sampling rate above 1", { sampling_rate: 1.5 }, "sampling_rate"],
    ["a sampling rate below 0", { sampling_rate: -0.1 }, "sampling_rate"],
    ["a non-http webhook URL", { webhooks: [{ url: "ftp://example.com/x" }] }, "webhooks[0].url"],
    [
      "a javascript: webhook URL",
      { webhooks: [{ url: "https://ok.example.com/" }, { url: "javascript:alert(1)" }] },
      "webhooks[1].url",
    ],
    [
      "a reserved webhook header",
      { webhooks: [{ url: "https://ok.example.com/", headers: { Host: "evil" } }] },
      "webhooks[0].headers.Host",
    ],
    [
      "a malformed signing secret",
      { webhooks: [{ url: "https://ok.example.com/", signing_secret: "nope" }] },
      "webhooks[0].signing_secret",
    ],
    ["an unknown webhook field", { webhooks: [{ url: "https://ok.example.com/", secret: "x" }] }, "webhooks[0].secret"],
    ["an unknown rule field", { colour: "blue" }, "colour"],
    ["a zero-length window", { window: { seconds: 0, max_runs: 10 } }, "window.seconds"],
    ["an empty display name", { display_name: "" }, "display_name"],
    ["another tenant's tenant_id", { tenant_id: randomUUID() }, "tenant_id"],
    ["a malformed id", { id: "rule-1" }, "id"],
    ["a malformed version", { version: "two" }, "version"],
  ];

  it.each(cases)("refuses %s", async (_name, patch, path) => {
    const answer = await api.call("POST", "/rules", { key: a.key, body: ruleBody(patch) });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe("invalid_rule");
    const paths = (answer.body.issues as { path: string }[]).map((i) => i.path);
    expect(paths).toContain(path);
    expect(answer.body.message).toContain(path);
  });

  it("reports every problem of a document at once", async () => {
    const answer = await api.call("POST", "/rules", {
      key: a.key,
      body: ruleBody({ sampling_rate: 2, filter: { nope: [] }, webhooks: [{ url: "file:///etc/passwd" }] }),
    });
    expect(answer.status).toBe(400);
    expect((answer.body.issues as { path: string }[]).map((i) => i.path).sort()).toEqual(
      ["filter.nope", "sampling_rate", "webhooks[0].url"].sort(),
    );
  });

  it("names the field on PUT, PATCH and bad headers too", async () => {
    const id = randomUUID();
    const mismatch = await api.call("PUT", `/rules/${id}`, { key: a.key, body: ruleBody({ id: randomUUID() }) });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.issues[0].path).toBe("id");
    const created = await api.call("PUT", `/rules/${id}`, { key: a.key, body: ruleBody() });
    expect(created.status).toBe(201);
    const patch = await api.call("PATCH", `/rules/${id}`, {
      key: a.key,
      body: { filter: { and: [{ var: "constructor" }] } },
    });
    expect(patch.status).toBe(400);
    expect(patch.body.issues[0].path).toBe("filter.and[0].var");
    const ifMatch = await api.call("PATCH", `/rules/${id}`, {
      key: a.key,
      body: { enabled: false },
      headers: { "if-match": "yesterday" },
    });
    expect(ifMatch.status).toBe(400);
    expect(ifMatch.body.issues[0].path).toBe("If-Match");
    const badId = await api.call("GET", "/rules/not-a-uuid", { key: a.key });
    expect(badId.status).toBe(400);
    expect(badId.body.issues[0].path).toBe("id");
    const notJson = await api.call("POST", "/rules", { key: a.key, body: "{not json" });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error).toBe("invalid_request");
    expect(notJson.body.issues[0].path).toBe("(body)");
  });
});

describe("tenant isolation", () => {
  it("hides a tenant's rules from every other tenant (404), and never lets them change it", async () => {
    const created = await api.call("POST", "/rules", { key: a.key, body: ruleBody() });
    const id = created.body.rule.id as string;
    expect((await api.call("GET", `/rules/${id}`, { key: b.key })).status).toBe(404);
    expect((await api.call("GET", `/rules/${id}/history`, { key: b.key })).status).toBe(404);
    expect((await api.call("PATCH", `/rules/${id}`, { key: b.key, body: { enabled: false } })).status).toBe(404);
    // Rule ids are global: B cannot take A's id either, and is told to pick another.
    const put = await api.call("PUT", `/rules/${id}`, { key: b.key, body: ruleBody() });
    expect(put).toMatchObject({ status: 409, body: { error: "rule_id_taken" } });
    expect(put.text).not.toContain(a.tenantId);
    expect((await api.call("DELETE", `/rules/${id}`, { key: b.key })).status).toBe(404);
    const listB = await api.call("GET", "/rules", { key: b.key });
    expect(listB.body.rules.map((r: { id: string }) => r.id)).not.toContain(id);
    // A's rule is untouched.
    const stillA = await api.call("GET", `/rules/${id}`, { key: a.key });
    expect(stillA.body).toMatchObject({ version: 1, enabled: true });
  });
});

describe("optimistic concurrency", () => {
  it("lets one of two writers of the same version win and answers 409 to the other", async () => {
    const created = await api.call("POST", "/rules", { key: a.key, body: ruleBody() });
    const id = created.body.rule.id as string;
    const [x, y] = await Promise.all([
      api.call("PATCH", `/rules/${id}`, { key: a.key, body: { display_name: "x" }, headers: { "if-match": '"1"' } }),
      api.call("PATCH", `/rules/${id}`, { key: a.key, body: { display_name: "y" }, headers: { "if-match": '"1"' } }),
    ]);
    expect([x.status, y.status].sort()).toEqual([200, 409]);
    const loser = x.status === 409 ? x : y;
    expect(loser.body).toMatchObject({ error: "version_conflict", current_version: 2 });
    const winner = x.status === 200 ? x : y;
    expect((await api.call("GET", `/rules/${id}`, { key: a.key })).body.display_name).toBe(
      winner.body.rule.display_name,
    );

    const staleField = await api.call("PUT", `/rules/${id}`, {
      key: a.key,
      body: ruleBody({ version: 1, display_name: "z" }),
    });
    expect(staleField.status).toBe(409);
    const staleDelete = await api.call("DELETE", `/rules/${id}`, { key: a.key, headers: { "if-match": '"1"' } });
    expect(staleDelete.status).toBe(409);
    const fresh = await api.call("PUT", `/rules/${id}`, {
      key: a.key,
      body: ruleBody({ version: 2, display_name: "z" }),
    });
    expect(fresh).toMatchObject({ status: 200, body: { rule: { version: 3 } } });
  });
});

describe("dry run", () => {
  const session = randomUUID();
  function run(patch: Record<string, unknown>): Record<string, unknown> {
    return {
      id: randomUUID(),
      name: "ChatOpenAI",
      run_type: "llm",
      status: "error",
      error: "RateLimitError",
      start_time: "2024-04-05T01:28:50.000000",
      end_time: "2024-04-05T01:28:51.250000",
      tenant_id: a.tenantId,
      session_id: session,
      extra: { metadata: { env: "prod" } },
      ...patch,
    };
  }

  it("says which runs match, why the others do not, and shows the exact payloads", async () => {
    const matching = [
      run({ end_time: "2024-04-05T01:28:51.250000" }),
      run({ end_time: "2024-04-05T01:28:52+00:00" }),
      run({ end_time: "2024-04-05T01:28:53Z" }),
      run({ end_time: "2024-04-05T01:28:57.5Z" }),
    ];
    const wrongStatus = run({ status: "success", error: null });
    const notEnded = run({ end_time: null });
    const otherTenant = run({ tenant_id: b.tenantId });
    const otherSession = run({ session_id: randomUUID() });
    const rule = ruleBody({
      session_id: session,
      window: { seconds: 5, max_runs: 2 },
    });
    const answer = await api.call("POST", "/rules/test", {
      key: a.key,
      body: {
        rule,
        runs: [matching[0], wrongStatus, matching[1], notEnded, otherTenant, matching[2], otherSession, matching[3]],
      },
    });
    expect(answer.status).toBe(200);
    const result = answer.body;
    expect(result.matched).toBe(4);
    const byId = new Map(
      (
        result.results as {
          run_id: string;
          matched: boolean;
          reasons: string[];
          checks: { part: string; ok: boolean }[];
        }[]
      ).map((r) => [r.run_id, r]),
    );
    for (const m of matching) expect(byId.get(m["id"] as string)?.matched).toBe(true);

    const status = byId.get(wrongStatus["id"] as string)!;
    expect(status.matched).toBe(false);
    expect(status.checks.filter((c) => !c.ok).map((c) => c.part)).toEqual(["filter"]);
    expect(status.reasons[0]).toContain("filter.and[1]");
    expect(status.reasons[0]).toContain('status = "success"');
    expect(
      byId
        .get(notEnded["id"] as string)!
        .checks.filter((c) => !c.ok)
        .map((c) => c.part),
    ).toEqual(["ended"]);
    expect(
      byId
        .get(otherTenant["id"] as string)!
        .checks.filter((c) => !c.ok)
        .map((c) => c.part),
    ).toEqual(["tenant"]);
    expect(
      byId
        .get(otherSession["id"] as string)!
        .checks.filter((c) => !c.ok)
        .map((c) => c.part),
    ).toEqual(["session"]);

    // Aligned 5 s windows by end_time, at most 2 runs each: [:50, :55) holds 3 runs → 2 chunks; [:55, :60) holds 1.
    const payloads = (result.payloads as unknown[]).map((p) => WebhookPayload.parse(p));
    expect(payloads.map((p) => [p.start_time, p.end_time, p.runs.map((r) => r.id)])).toEqual([
      ["2024-04-05T01:28:50.000Z", "2024-04-05T01:28:55.000Z", [matching[0]!["id"], matching[1]!["id"]]],
      ["2024-04-05T01:28:50.000Z", "2024-04-05T01:28:55.000Z", [matching[2]!["id"]]],
      ["2024-04-05T01:28:55.000Z", "2024-04-05T01:29:00.000Z", [matching[3]!["id"]]],
    ]);
    expect(Object.keys(result.payloads[0]).sort()).toEqual(["end_time", "rule_id", "runs", "start_time"]);
    expect(payloads[0]!.rule_id).toBe(result.rule_id);
    // Runs are passed through as given, unknown fields included.
    expect(result.payloads[0].runs[0]).toEqual(matching[0]);
  });

  it("samples deterministically and says so", async () => {
    const id = randomUUID();
    const runs = Array.from({ length: 40 }, () => run({}));
    const body = { rule: ruleBody({ id, sampling_rate: 0.5 }), runs };
    const first = await api.call("POST", "/rules/test", { key: a.key, body });
    const second = await api.call("POST", "/rules/test", { key: a.key, body });
    const verdicts = (r: typeof first) => (r.body.results as { matched: boolean }[]).map((v) => v.matched);
    expect(verdicts(first)).toEqual(verdicts(second));
    const sampledOut = (first.body.results as { matched: boolean; checks: { part: string; ok: boolean }[] }[]).filter(
      (v) => !v.matched,
    );
    expect(sampledOut.length).toBeGreaterThan(0);
    expect(sampledOut.length).toBeLessThan(40);
    for (const v of sampledOut) expect(v.checks.filter((c) => !c.ok).map((c) => c.part)).toEqual(["sampling"]);
  });

  it("names the offending path of a bad rule or run", async () => {
    const answer = await api.call("POST", "/rules/test", {
      key: a.key,
      body: { rule: ruleBody({ filter: { and: [{ var: "__proto__" }] } }), runs: [run({}), run({ id: "nope" })] },
    });
    expect(answer.status).toBe(400);
    expect((answer.body.issues as { path: string }[]).map((i) => i.path).sort()).toEqual([
      "rule.filter.and[0].var",
      "runs[1].id",
    ]);
    const missing = await api.call("POST", "/rules/test", { key: a.key, body: { rule: ruleBody() } });
    expect(missing.status).toBe(400);
    expect(missing.body.issues[0].path).toBe("runs");
  });

  it("caps a dry run's runs and bytes, naming the limit and its setting", async () => {
    const many = await api.call("POST", "/rules/test", {
      key: a.key,
      body: { rule: ruleBody(), runs: Array.from({ length: 1001 }, () => ({})) },
    });
    expect(many.status).toBe(413);
    expect(many.body).toMatchObject({
      error: "too_many_runs",
      message: "the request has 1001 runs; the limit is 1000 per dry run (RUNHOOKS_API_DRY_RUN_MAX_RUNS)",
    });
    const padding = "x".repeat(4 * 1024 * 1024);
    const large = await api.call("POST", "/rules/test", {
      key: a.key,
      body: { rule: ruleBody(), runs: [run({ inputs: { padding } })] },
    });
    expect(large.status).toBe(413);
    expect(large.body.error).toBe("body_too_large");
    expect(large.body.message).toContain("4194304 bytes, the limit per dry run (RUNHOOKS_API_DRY_RUN_MAX_BYTES)");
    // Other body errors still get the API's usual answer.
    const malformed = await api.call("POST", "/rules/test", { key: a.key, body: "{nope" });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toBe("invalid_request");
  });

  it("refuses a filter over the static cost bound, and answers error for a run over the filter budget", async () => {
    const bomb = {
      "==": [
        { reduce: [{ var: "inputs.arr" }, { merge: [{ var: "accumulator" }, { var: "accumulator" }] }, [1]] },
        "nope",
      ],
    };
    const refused = await api.call("POST", "/rules/test", {
      key: a.key,
      body: { rule: ruleBody({ filter: bomb }), runs: [run({})] },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.issues[0]).toMatchObject({ path: "rule.filter.==[0].reduce[1]" });
    expect(refused.body.issues[0].message).toContain("grows exponentially");
    const search = { in: ["zzz", { var: "tags" }] };
    const tags = Array.from({ length: 150_000 }, (_, i) => String(i % 10));
    const answer = await api.call("POST", "/rules/test", {
      key: a.key,
      body: { rule: ruleBody({ filter: search }), runs: [run({ tags }), run({ tags: ["zzz"] })] },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBe(1);
    expect(answer.body.results[0].error).toContain("100,000 steps");
    expect(answer.body.results[1].matched).toBe(true);
  });
});

describe("secrets", () => {
  it("never shows a webhook secret in any answer, and never logs secrets or keys", async () => {
    // Exercise every route that shows a rule.
    const created = await api.call("POST", "/rules", { key: a.key, body: ruleBody() });
    const id = created.body.rule.id as string;
    await api.call("GET", `/rules/${id}`, { key: a.key });
    await api.call("GET", "/rules", { key: a.key });
    await api.call("PUT", `/rules/${id}`, { key: a.key, body: ruleBody({ display_name: "v2" }) });
    await api.call("PATCH", `/rules/${id}`, { key: a.key, body: { enabled: false } });
    await api.call("GET", `/rules/${id}/history`, { key: a.key });
    await api.call("POST", "/rules/test", { key: a.key, body: { rule: ruleBody(), runs: [] } });
    await api.call("DELETE", `/rules/${id}`, { key: a.key });
    await api.call("GET", "/rules", { headers: { authorization: `Bearer ${a.key}` } });
    await api.call("POST", "/rules", { key: a.key, body: ruleBody({ sampling_rate: 7 }) });

    const shown = created.body.rule.webhooks;
    expect(shown[0]).toMatchObject({
      url: "https://hooks.example.com/in?secret=***&team=ml",
      headers: { "x-hook-token": "***", "x-team": "***" },
      signing_secret: "whsec_***",
    });
    expect(shown[1].url).toBe("https://bot:***@other.example.com/h");

    const everything = api.answers.join("\n");
    for (const secret of SECRETS) expect(everything).not.toContain(secret);

    const logs = api.logs.join("");
    expect(logs).toContain("request completed");
    for (const secret of [...SECRETS, a.key, b.key, api.adminKey]) expect(logs).not.toContain(secret);
  });
});
