/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment --
   the JSON answers of the API under test; the assertions are what check their shape. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql, webhooksOfRuleVersion } from "@runhooks/db";
import { startTestApi, type TestApi } from "./support/api-harness.js";

const OLD = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi("rotate");
});
afterAll(async () => {
  await api?.close();
});

describe("POST /rules/:id/webhooks/:webhook_id/rotate-secret", () => {
  it("answers the new secret once, keeps the old one signing for the grace period, and never shows either", async () => {
    const { key } = await api.newTenant("rotating");
    const created = await api.call("POST", "/rules", {
      key,
      body: {
        display_name: "LLM errors",
        filter: { "==": [{ var: "run_type" }, "llm"] },
        webhooks: [{ url: "https://hooks.example.com/in", signing_secret: OLD }, { url: "https://b.example.com/in" }],
      },
    });
    expect(created.status).toBe(201);
    const ruleId: string = created.body.rule.id;
    const webhookId: string = created.body.rule.webhooks[0].id;

    const before = Date.now();
    const rotated = await api.call("POST", `/rules/${ruleId}/webhooks/${webhookId}/rotate-secret`, {
      key,
      body: { grace_seconds: 3600 },
    });
    expect(rotated.status).toBe(200);
    expect(rotated.headers.get("cache-control")).toBe("no-store");
    const secret: string = rotated.body.signing_secret;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(rotated.body).toMatchObject({ rule_id: ruleId, webhook_id: webhookId, version: 2 });
    const until = Date.parse(rotated.body.previous_secret_expires_at as string);
    expect(until).toBeGreaterThanOrEqual(before + 3_600_000 - 1000);
    expect(until).toBeLessThanOrEqual(Date.now() + 3_600_000);

    // The store holds both: the new one, and the old one until the overlap ends.
    const stored = await webhooksOfRuleVersion(api.database.db, ruleId, 2);
    expect(stored?.[0]).toMatchObject({ signing_secret: secret, previous_signing_secret: { secret: OLD } });
    expect(stored?.[1]?.previous_signing_secret).toBeUndefined();
    // ... sealed at rest, both of them: neither table's text holds either secret.
    const tables = JSON.stringify(
      await api.database.db.query(sql`
        SELECT rule FROM rules WHERE rule_id = ${ruleId}
        UNION ALL SELECT rule FROM rule_events WHERE rule_id = ${ruleId}`),
    );
    expect(tables).not.toContain(OLD.slice("whsec_".length));
    expect(tables).not.toContain(secret.slice("whsec_".length));

    // Read back and sent back unchanged (GitOps round trip): nothing changes, the overlap stays.
    const read = await api.call("GET", `/rules/${ruleId}`, { key });
    expect(read.body.webhooks[0].signing_secret).toBe("whsec_***");
    const put = await api.call("PUT", `/rules/${ruleId}`, { key, body: read.body });
    expect(put.body.result).toBe("unchanged");
    // A PATCH of another field keeps it too.
    const patched = await api.call("PATCH", `/rules/${ruleId}`, { key, body: { display_name: "renamed" } });
    expect(patched.status).toBe(200);
    expect((await webhooksOfRuleVersion(api.database.db, ruleId, 3))?.[0]?.previous_signing_secret?.secret).toBe(OLD);

    // The new secret was answered once; no other answer or log line holds either secret.
    const bytes = secret.slice("whsec_".length);
    expect(api.answers.filter((a) => a.includes(bytes))).toHaveLength(1);
    const elsewhere = api.answers.filter((a) => !a.includes(bytes)).join("\n") + api.logs.join("\n");
    expect(elsewhere).not.toContain(bytes);
    expect(elsewhere + api.answers.join("\n")).not.toContain(OLD.slice("whsec_".length));
  });

  it("refuses what it cannot rotate", async () => {
    const { key } = await api.newTenant("refusals");
    const other = await api.newTenant("other");
    const created = await api.call("POST", "/rules", {
      key,
      body: { display_name: "r", filter: true, webhooks: [{ url: "https://hooks.example.com/in" }] },
    });
    const ruleId: string = created.body.rule.id;
    const webhookId: string = created.body.rule.webhooks[0].id;
    const rotate = (path: string, body: unknown, k = key) => api.call("POST", path, { key: k, body });
    const path = `/rules/${ruleId}/webhooks/${webhookId}/rotate-secret`;
    expect((await rotate(path, { grace_seconds: -1 })).status).toBe(400);
    expect((await rotate(path, { grace_seconds: 8 * 86_400 })).status).toBe(400);
    expect((await rotate(path, { grace: 60 })).status).toBe(400);
    expect((await rotate(`/rules/${ruleId}/webhooks/not-a-uuid/rotate-secret`, {})).status).toBe(400);
    expect((await rotate(`/rules/${ruleId}/webhooks/${ruleId}/rotate-secret`, {})).status).toBe(404);
    expect((await rotate(path, {}, other.key)).status).toBe(404);
    // A webhook without a secret gets its first: nothing to overlap.
    const first = await rotate(path, {});
    expect(first.status).toBe(200);
    expect(first.body.previous_secret_expires_at).toBeNull();
  });
});
