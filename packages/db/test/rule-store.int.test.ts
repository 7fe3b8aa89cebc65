import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { Rule } from "@runhooks/contracts";
import {
  authenticateApiKey,
  createApiKey,
  createTenant,
  deleteRule,
  getRule,
  lastSentOffset,
  listRules,
  markOutboxSent,
  migrate,
  pendingOutbox,
  revokeApiKey,
  ruleHistory,
  saveRule,
  sql,
  webhooksOfRuleVersion,
} from "@runhooks/db";
import { createTestDatabase, type TestDatabase } from "../../../test/support/stack.js";

let database: TestDatabase;
let tenantA: string;
let tenantB: string;

beforeAll(async () => {
  database = await createTestDatabase("rule_store");
  await migrate(database.db);
  const a = await createTenant(database.db, { name: "a" });
  const b = await createTenant(database.db, { name: "b" });
  if (!a.ok || !b.ok) throw new Error("tenants");
  tenantA = a.tenant.id;
  tenantB = b.tenant.id;
});
afterAll(async () => {
  await database.drop();
});

function ruleDoc(tenantId: string, patch: Record<string, unknown> = {}): Rule {
  return Rule.parse({
    id: randomUUID(),
    tenant_id: tenantId,
    display_name: "errors",
    filter: { "==": [{ var: "status" }, "error"] },
    webhooks: [
      {
        url: "https://example.com/hook?secret=s3cret-one&team=ml",
        headers: { authorization: "Bearer hdr-secret" },
        signing_secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      },
    ],
    ...patch,
  });
}

async function outboxRows(ruleId: string) {
  return (await database.db.query(sql`SELECT version, payload FROM outbox WHERE rule_id = ${ruleId} ORDER BY id`)) as {
    version: number;
    payload: Record<string, unknown> | null;
  }[];
}

describe("the rule store", () => {
  it("writes an event, the projection and an outbox row for each version", async () => {
    const rule = ruleDoc(tenantA);
    const created = await saveRule(database.db, { tenantId: tenantA, rule, mode: "create" });
    expect(created).toMatchObject({ ok: true, outcome: "created", record: { version: 1, effectiveFrom: null } });

    const again = await saveRule(database.db, { tenantId: tenantA, rule, mode: "upsert" });
    expect(again).toMatchObject({ ok: true, outcome: "unchanged", record: { version: 1 } });
    // No session scope, written as null or left out: the same rule.
    const explicitNull = await saveRule(database.db, {
      tenantId: tenantA,
      rule: { ...rule, session_id: null },
      mode: "upsert",
    });
    expect(explicitNull).toMatchObject({ ok: true, outcome: "unchanged", record: { version: 1 } });

    const disabled = await saveRule(database.db, {
      tenantId: tenantA,
      rule: { ...rule, enabled: false },
      mode: "upsert",
    });
    expect(disabled).toMatchObject({ ok: true, outcome: "updated", record: { version: 2 } });
    const changed = await saveRule(database.db, {
      tenantId: tenantA,
      rule: { ...rule, sampling_rate: 0.5 },
      mode: "update",
    });
    expect(changed).toMatchObject({ ok: true, outcome: "updated", record: { version: 3 } });

    const history = await ruleHistory(database.db, tenantA, rule.id);
    expect(history.map((e) => [e.version, e.type])).toEqual([
      [1, "created"],
      [2, "disabled"],
      [3, "updated"],
    ]);
    expect(history[2]!.rule.sampling_rate).toBe(0.5);
    // The history holds the full rule, secrets included: it never leaves Postgres unredacted.
    expect(history[0]!.rule.webhooks[0]!.url).toContain("s3cret-one");

    const outbox = await outboxRows(rule.id);
    expect(outbox.map((r) => r.version)).toEqual([1, 2, 3]);
    for (const row of outbox) {
      expect(Object.keys(row.payload!).sort()).toEqual(
        [
          "enabled",
          "filter",
          "kind",
          "rule_id",
          "sampling_rate",
          "schema_version",
          "session_id",
          "tenant_id",
          "version",
          "window",
        ].sort(),
      );
      expect(JSON.stringify(row.payload)).not.toMatch(/s3cret|hdr-secret|whsec|example\.com/);
    }
    expect(outbox[1]!.payload).toMatchObject({ enabled: false, version: 2 });
  });

  it("keeps webhook ids stable while the target is the same, and restores redacted secrets", async () => {
    const rule = ruleDoc(tenantA);
    const first = await saveRule(database.db, { tenantId: tenantA, rule, mode: "create" });
    if (!first.ok) throw new Error("create");
    const id = first.record.rule.webhooks[0]!.id;

    // Same URL, no id given (a GitOps file): same id, and nothing changed.
    const same = await saveRule(database.db, { tenantId: tenantA, rule, mode: "upsert" });
    expect(same).toMatchObject({ ok: true, outcome: "unchanged" });

    // The redacted form a client read from the API, sent back with one real change: secrets are kept.
    const fromApi = {
      ...rule,
      display_name: "renamed",
      webhooks: [
        {
          url: "https://example.com/hook?secret=***&team=ml",
          headers: { authorization: "***" },
          signing_secret: "whsec_***",
        },
      ],
    };
    const renamed = await saveRule(database.db, { tenantId: tenantA, rule: fromApi, mode: "update" });
    if (!renamed.ok) throw new Error(JSON.stringify(renamed));
    expect(renamed.record.rule.webhooks).toEqual([{ ...rule.webhooks[0], id }]);

    // A second target gets a new id; the first keeps its own.
    const two = await saveRule(database.db, {
      tenantId: tenantA,
      rule: { ...rule, webhooks: [...rule.webhooks, { url: "https://other.example/h", headers: {} }] },
      mode: "update",
    });
    if (!two.ok) throw new Error("update");
    expect(two.record.rule.webhooks[0]!.id).toBe(id);
    expect(two.record.rule.webhooks[1]!.id).not.toBe(id);

    expect(await webhooksOfRuleVersion(database.db, rule.id, 1)).toEqual([{ ...rule.webhooks[0], id }]);
    expect(await webhooksOfRuleVersion(database.db, rule.id, 3)).toHaveLength(2);
    expect(await webhooksOfRuleVersion(database.db, rule.id, 99)).toBeUndefined();
  });

  it("refuses a redacted value it cannot restore, naming the field", async () => {
    // The API lets `whsec_***` through validation (it means "keep the stored secret").
    const rule = ruleDoc(tenantA, { webhooks: [] });
    rule.webhooks = [
      { url: "https://example.com/new?token=***", headers: { "x-k": "***" }, signing_secret: "whsec_***" },
    ];
    const result = await saveRule(database.db, { tenantId: tenantA, rule, mode: "create" });
    expect(result).toMatchObject({ ok: false, reason: "invalid" });
    if (result.ok || result.reason !== "invalid") return;
    expect(result.issues.map((i) => i.path)).toEqual([
      "webhooks[0].url",
      "webhooks[0].headers.x-k",
      "webhooks[0].signing_secret",
    ]);
    expect(await getRule(database.db, tenantA, rule.id)).toBeUndefined();
  });

  it("detects a stale version and leaves the rule as it was", async () => {
    const rule = ruleDoc(tenantA);
    await saveRule(database.db, { tenantId: tenantA, rule, mode: "create" });
    const v2 = await saveRule(database.db, {
      tenantId: tenantA,
      rule: { ...rule, display_name: "v2" },
      mode: "update",
      expectedVersion: 1,
    });
    expect(v2).toMatchObject({ ok: true, record: { version: 2 } });
    const stale = await saveRule(database.db, {
      tenantId: tenantA,
      rule: { ...rule, display_name: "lost" },
      mode: "update",
      expectedVersion: 1,
    });
    expect(stale).toMatchObject({ ok: false, reason: "version_conflict", current: { version: 2 } });
    expect((await getRule(database.db, tenantA, rule.id))?.rule.display_name).toBe("v2");
  });

  it("lets exactly one of two racing writers of the same version win", async () => {
    const rule = ruleDoc(tenantA);
    await saveRule(database.db, { tenantId: tenantA, rule, mode: "create" });
    const results = await Promise.all(
      ["x", "y", "z"].map((name) =>
        saveRule(database.db, {
          tenantId: tenantA,
          rule: { ...rule, display_name: name },
          mode: "update",
          expectedVersion: 1,
        }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === "version_conflict")).toHaveLength(2);
    expect((await outboxRows(rule.id)).map((r) => r.version)).toEqual([1, 2]);
  });

  it("serialises racing creates of the same new id", async () => {
    const rule = ruleDoc(tenantA);
    const results = await Promise.all(
      [0, 1, 2].map(() => saveRule(database.db, { tenantId: tenantA, rule, mode: "create" })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === "exists")).toHaveLength(2);
  });

  it("deletes with a tombstone, keeps the history, and continues the versions if the id is used again", async () => {
    const rule = ruleDoc(tenantA);
    await saveRule(database.db, { tenantId: tenantA, rule, mode: "create" });
    expect(await deleteRule(database.db, { tenantId: tenantA, ruleId: rule.id, expectedVersion: 7 })).toMatchObject({
      ok: false,
      reason: "version_conflict",
    });
    expect(await deleteRule(database.db, { tenantId: tenantA, ruleId: rule.id })).toEqual({ ok: true, version: 2 });
    expect(await deleteRule(database.db, { tenantId: tenantA, ruleId: rule.id })).toEqual({
      ok: false,
      reason: "not_found",
    });
    expect(await getRule(database.db, tenantA, rule.id)).toBeUndefined();
    expect((await listRules(database.db, tenantA)).some((r) => r.rule.id === rule.id)).toBe(false);
    expect(await saveRule(database.db, { tenantId: tenantA, rule, mode: "update" })).toEqual({
      ok: false,
      reason: "not_found",
    });

    const again = await saveRule(database.db, { tenantId: tenantA, rule, mode: "upsert" });
    expect(again).toMatchObject({ ok: true, outcome: "created", record: { version: 3 } });
    const outbox = await outboxRows(rule.id);
    expect(outbox.map((r) => [r.version, r.payload === null])).toEqual([
      [1, false],
      [2, true],
      [3, false],
    ]);
    expect((await ruleHistory(database.db, tenantA, rule.id)).map((e) => e.type)).toEqual([
      "created",
      "deleted",
      "created",
    ]);
  });

  it("keeps tenants apart: another tenant's rule is invisible and its id cannot be taken", async () => {
    const rule = ruleDoc(tenantA);
    await saveRule(database.db, { tenantId: tenantA, rule, mode: "create" });
    const asB = { ...rule, tenant_id: tenantB };
    expect(await getRule(database.db, tenantB, rule.id)).toBeUndefined();
    expect(await ruleHistory(database.db, tenantB, rule.id)).toEqual([]);
    expect(await saveRule(database.db, { tenantId: tenantB, rule: asB, mode: "update" })).toEqual({
      ok: false,
      reason: "not_found",
    });
    expect(await saveRule(database.db, { tenantId: tenantB, rule: asB, mode: "upsert" })).toEqual({
      ok: false,
      reason: "id_taken",
    });
    expect(await saveRule(database.db, { tenantId: tenantB, rule: asB, mode: "create" })).toEqual({
      ok: false,
      reason: "id_taken",
    });
    expect(await deleteRule(database.db, { tenantId: tenantB, ruleId: rule.id })).toEqual({
      ok: false,
      reason: "not_found",
    });
    expect((await listRules(database.db, tenantB)).map((r) => r.rule.id)).not.toContain(rule.id);
    expect((await getRule(database.db, tenantA, rule.id))?.version).toBe(1);
  });

  it("a dry run answers the outcome and writes nothing", async () => {
    const rule = ruleDoc(tenantA);
    const dry = await saveRule(database.db, { tenantId: tenantA, rule, mode: "upsert", dryRun: true });
    expect(dry).toMatchObject({ ok: true, outcome: "created", record: { version: 1 } });
    expect(await getRule(database.db, tenantA, rule.id)).toBeUndefined();
    expect(await outboxRows(rule.id)).toEqual([]);
  });

  it("records each published version's append time as its effective_from", async () => {
    const rule = ruleDoc(tenantA);
    await saveRule(database.db, { tenantId: tenantA, rule, mode: "create" });
    await saveRule(database.db, { tenantId: tenantA, rule: { ...rule, display_name: "two" }, mode: "update" });
    const pending = (await pendingOutbox(database.db, 1000)).filter((e) => e.ruleId === rule.id);
    expect(pending.map((e) => e.version)).toEqual([1, 2]);
    const t1 = new Date("2030-01-01T00:00:01.000Z");
    const t2 = new Date("2030-01-01T00:00:02.000Z");
    const before = await lastSentOffset(database.db);
    const marked = await markOutboxSent(database.db, [
      { id: pending[0]!.id, offset: 1000n, appendTime: t1 },
      { id: pending[1]!.id, offset: 1001n, appendTime: t2 },
    ]);
    expect(marked).toBe(2);
    // Marking again is harmless and changes nothing.
    expect(await markOutboxSent(database.db, [{ id: pending[0]!.id, offset: 5n, appendTime: t2 }])).toBe(0);
    expect(before === null || before < 1001n).toBe(true);
    expect(await lastSentOffset(database.db)).toBe(1001n);
    const history = await ruleHistory(database.db, tenantA, rule.id);
    expect(history.map((e) => e.effectiveFrom?.toISOString())).toEqual([t1.toISOString(), t2.toISOString()]);
    expect((await getRule(database.db, tenantA, rule.id))?.effectiveFrom?.toISOString()).toBe(t2.toISOString());
    expect((await pendingOutbox(database.db, 1000)).some((e) => e.ruleId === rule.id)).toBe(false);
  });
});

describe("API keys", () => {
  it("authenticates a key by its hash, binds it to its tenant, and forgets it when revoked", async () => {
    const created = await createApiKey(database.db, tenantA, "ci");
    if (!created) throw new Error("key");
    expect(created.key.startsWith("rh_")).toBe(true);
    const stored = (await database.db.query(
      sql`SELECT key_hash, key_prefix FROM api_keys WHERE id = ${created.id}`,
    )) as {
      key_hash: Buffer;
      key_prefix: string;
    }[];
    expect(stored[0]!.key_hash.toString("utf8")).not.toContain(created.key);
    expect(created.key.startsWith(stored[0]!.key_prefix)).toBe(true);

    expect(await authenticateApiKey(database.db, created.key)).toEqual({ keyId: created.id, tenantId: tenantA });
    expect(await authenticateApiKey(database.db, `${created.key}x`)).toBeUndefined();
    expect(await revokeApiKey(database.db, created.id)).toBe(true);
    expect(await authenticateApiKey(database.db, created.key)).toBeUndefined();
    expect(await createApiKey(database.db, randomUUID())).toBeUndefined();
  });
});
