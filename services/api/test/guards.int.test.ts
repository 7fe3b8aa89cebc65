/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument --
   the JSON answers of the API under test; the assertions are what check their shape. */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rule } from "@runhooks/contracts";
import { saveRule, webhooksOfRuleVersion } from "@runhooks/db";
import { startTestApi, type TestApi } from "./support/api-harness.js";

/** Small quotas, so a test reaches them in a few requests. */
const LIMITS = { rules: { maxRulesPerTenant: 3, maxVersionsPerMinute: 8 }, maxReplayRangeMs: 3_600_000 };

function ruleBody(patch: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    display_name: "LLM errors",
    filter: { "==": [{ var: "run_type" }, "llm"] },
    webhooks: [{ url: "https://hooks.example.com/in", headers: { "x-team": "ml" } }],
    ...patch,
  };
}

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi("guards", { limits: LIMITS });
});
afterAll(async () => {
  await api?.close();
});

describe("webhook headers at write", () => {
  it.each([
    "Transfer-Encoding",
    "connection",
    "Keep-Alive",
    "Upgrade",
    "TE",
    "Trailer",
    "Expect",
    "Proxy-Authorization",
    "Host",
    "Content-Length",
    "runhooks-attempt",
    "Webhook-Signature",
  ])("refuses %s with a 400 naming it", async (name) => {
    const t = await api.newTenant(`headers ${name}`);
    const answer = await api.call("POST", "/rules", {
      key: t.key,
      body: ruleBody({ webhooks: [{ url: "https://hooks.example.com/in", headers: { "x-team": "ml", [name]: "v" } }] }),
    });
    expect(answer.status).toBe(400);
    expect(answer.body.issues).toEqual([
      { path: `webhooks[0].headers.${name}`, message: expect.stringMatching(/remove it/) },
    ]);
    expect(answer.body.message).toContain(`webhooks[0].headers.${name}`);
    expect((await api.call("GET", "/rules", { key: t.key })).body.rules).toEqual([]);
  });

  it("keeps a stored version holding such headers readable, and lets a PATCH disable it without them", async () => {
    const t = await api.newTenant("stored headers");
    const id = randomUUID();
    // Written past the API's check: a stored version may hold names the API refuses.
    const rule = Rule.parse({
      id,
      tenant_id: t.tenantId,
      display_name: "old",
      filter: true,
      webhooks: [{ url: "https://hooks.example.com/in" }],
    });
    const headers = { Connection: "close", "Transfer-Encoding": "chunked", "x-team": "ml" };
    const saved = await saveRule(api.database.db, {
      tenantId: t.tenantId,
      mode: "create",
      rule: { ...rule, webhooks: [{ ...rule.webhooks[0]!, headers }] },
    });
    expect(saved.ok).toBe(true);

    const read = await api.call("GET", `/rules/${id}`, { key: t.key });
    expect(read.status).toBe(200);
    expect(Object.keys(read.body.webhooks[0].headers).sort()).toEqual(["Connection", "Transfer-Encoding", "x-team"]);
    expect((await api.call("GET", `/rules/${id}/history`, { key: t.key })).status).toBe(200);

    // Sent back as read, the names are refused: the answer says which, and what to do.
    const putBack = await api.call("PUT", `/rules/${id}`, { key: t.key, body: read.body });
    expect(putBack.status).toBe(400);
    expect(putBack.body.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      "webhooks[0].headers.Connection",
      "webhooks[0].headers.Transfer-Encoding",
    ]);

    const disabled = await api.call("PATCH", `/rules/${id}`, { key: t.key, body: { enabled: false } });
    expect(disabled).toMatchObject({ status: 200, body: { rule: { version: 2, enabled: false } } });
    expect((await webhooksOfRuleVersion(api.database.db, id, 2))?.[0]?.headers).toEqual({ "x-team": "ml" });
    expect((await webhooksOfRuleVersion(api.database.db, id, 1))?.[0]?.headers).toEqual(headers);
  });
});

describe("the rules-per-tenant quota", () => {
  it("refuses a tenant's rule past the limit with 403, naming the quota, its figures and its variable", async () => {
    const t = await api.newTenant("count");
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const created = await api.call("POST", "/rules", { key: t.key, body: ruleBody({ display_name: `r${i}` }) });
      expect(created.status).toBe(201);
      ids.push(created.body.rule.id as string);
    }
    const refused = await api.call("POST", "/rules", { key: t.key, body: ruleBody() });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      error: "quota_exceeded",
      message: expect.stringContaining(
        "the tenant has 3 rules; the limit is 3 per tenant (RUNHOOKS_API_MAX_RULES_PER_TENANT)",
      ),
      quota: { name: "rules_per_tenant", limit: 3, current: 3, variable: "RUNHOOKS_API_MAX_RULES_PER_TENANT" },
    });
    // A PUT that would create is refused too, a dry run says so, and nothing was written.
    expect((await api.call("PUT", `/rules/${randomUUID()}`, { key: t.key, body: ruleBody() })).status).toBe(403);
    expect(
      (await api.call("PUT", `/rules/${randomUUID()}?dry_run=true`, { key: t.key, body: ruleBody() })).status,
    ).toBe(403);
    expect((await api.call("GET", "/rules", { key: t.key })).body.rules).toHaveLength(3);

    // Changing an existing rule never counts; deleting one makes room.
    expect(
      (await api.call("PUT", `/rules/${ids[0]}`, { key: t.key, body: ruleBody({ display_name: "renamed" }) })).status,
    ).toBe(200);
    expect((await api.call("DELETE", `/rules/${ids[1]}`, { key: t.key })).status).toBe(200);
    expect((await api.call("POST", "/rules", { key: t.key, body: ruleBody() })).status).toBe(201);

    // Another tenant is not affected by this one's count.
    const other = await api.newTenant("count other");
    expect((await api.call("POST", "/rules", { key: other.key, body: ruleBody() })).status).toBe(201);
  });

  it("holds under concurrent creates: exactly the limit gets through", async () => {
    const t = await api.newTenant("count race");
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        api.call("POST", "/rules", { key: t.key, body: ruleBody({ display_name: `r${i}` }) }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 201, 201, 403, 403, 403, 403, 403]);
    expect((await api.call("GET", "/rules", { key: t.key })).body.rules).toHaveLength(3);
  });
});

describe("the rule-versions-per-minute quota", () => {
  it("refuses the version past the limit with 429 and Retry-After; unchanged writes and dry runs are free", async () => {
    const t = await api.newTenant("rate");
    const created = await api.call("POST", "/rules", { key: t.key, body: ruleBody() });
    const id = created.body.rule.id as string;
    // Versions 2…8 of the same rule: 8 versions in all, the limit.
    for (let v = 2; v <= 8; v++) {
      const answer = await api.call("PATCH", `/rules/${id}`, { key: t.key, body: { display_name: `v${v}` } });
      expect(answer).toMatchObject({ status: 200, body: { rule: { version: v } } });
    }
    const refused = await api.call("PATCH", `/rules/${id}`, { key: t.key, body: { display_name: "v9" } });
    expect(refused.status).toBe(429);
    expect(refused.body.quota).toEqual({
      name: "rule_versions_per_minute",
      limit: 8,
      current: 8,
      variable: "RUNHOOKS_API_MAX_RULE_VERSIONS_PER_MINUTE",
    });
    expect(refused.body.message).toMatch(
      /^the tenant wrote 8 rule versions in the last minute; the limit is 8 per minute \(RUNHOOKS_API_MAX_RULE_VERSIONS_PER_MINUTE\): retry in \d+ s$/,
    );
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // A deletion is a version too.
    expect((await api.call("DELETE", `/rules/${id}`, { key: t.key })).status).toBe(429);

    const current = (await api.call("GET", `/rules/${id}`, { key: t.key })).body;
    expect(current.version).toBe(8);
    expect((await api.call("PUT", `/rules/${id}`, { key: t.key, body: current })).body.result).toBe("unchanged");
    expect(
      (await api.call("PUT", `/rules/${id}?dry_run=true`, { key: t.key, body: { ...current, display_name: "dry" } }))
        .status,
    ).toBe(200);

    // Another tenant writes on.
    const other = await api.newTenant("rate other");
    expect((await api.call("POST", "/rules", { key: other.key, body: ruleBody() })).status).toBe(201);
  });
});

describe("the replay-range quota", () => {
  it("refuses a replay over a longer range than the limit with 422, and takes one within it", async () => {
    const t = await api.newTenant("replay");
    const id = (await api.call("POST", "/rules", { key: t.key, body: ruleBody() })).body.rule.id as string;
    const refused = await api.call("POST", `/rules/${id}/replay`, {
      key: t.key,
      body: { from: "2026-01-01T00:00:00Z", to: "2026-01-01T02:00:00Z" },
    });
    expect(refused.status).toBe(422);
    expect(refused.body).toEqual({
      error: "quota_exceeded",
      message:
        "the range covers 2 hours; the limit is 60 minutes per replay (RUNHOOKS_API_MAX_REPLAY_HOURS): split it into several replays",
      quota: { name: "replay_range", limit: 3600, current: 7200, unit: "s", variable: "RUNHOOKS_API_MAX_REPLAY_HOURS" },
    });
    const taken = await api.call("POST", `/rules/${id}/replay`, {
      key: t.key,
      body: { from: "2026-01-01T00:00:00Z", to: "2026-01-01T01:00:00Z" },
    });
    expect(taken).toMatchObject({ status: 202, body: { rule_id: id, windows: 0 } });
    // The order of from and to is still checked first, as a 400.
    expect(
      (
        await api.call("POST", `/rules/${id}/replay`, {
          key: t.key,
          body: { from: "2026-01-02T00:00:00Z", to: "2026-01-01T00:00:00Z" },
        })
      ).status,
    ).toBe(400);
  });
});
