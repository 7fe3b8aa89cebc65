import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { Rule } from "@runhooks/contracts";
import {
  MigrationError,
  connectDatabase,
  countPlaintextRows,
  createTenant,
  deleteRule,
  getRule,
  loadMigrations,
  migrate,
  openSecret,
  parseSecretKeys,
  purgeHistorySecrets,
  resealAll,
  ruleHistory,
  saveRule,
  sealedKeyId,
  sql,
  webhooksOfRuleVersion,
  type Database,
  type SecretKeyring,
} from "@runhooks/db";
import { TEST_SECRETS, createTestDatabase, type TestDatabase } from "../../../test/support/stack.js";

const SENTINELS = ["s3ntinel-url-token", "s3ntinel-header", "whsec_U2VudGluZWxTaWduaW5nU2VjcmV0"];

function keyring(fill: number, ...older: SecretKeyring[]): SecretKeyring {
  const text = [Buffer.alloc(32, fill).toString("base64url"), ...older.map((k) => k.current.bytes.toString("hex"))];
  const parsed = parseSecretKeys(text.join(","));
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.keyring;
}

function ruleDoc(tenantId: string, id = randomUUID()): Rule {
  return Rule.parse({
    id,
    tenant_id: tenantId,
    display_name: "sentinels",
    filter: true,
    webhooks: [
      {
        url: `https://example.com/services/T0/B0/${SENTINELS[0]}?token=${SENTINELS[0]}`,
        headers: { authorization: `Bearer ${SENTINELS[1]}` },
        signing_secret: SENTINELS[2],
      },
    ],
  });
}

/** Everything the rule tables hold, as text: what a dump of them would show. */
async function dump(db: Database): Promise<string> {
  const rows = (await db.query(sql`
    SELECT (SELECT coalesce(string_agg(rule::text, ''), '') FROM rules)
        || (SELECT coalesce(string_agg(rule::text, ''), '') FROM rule_events)
        || (SELECT coalesce(string_agg(coalesce(payload::text, ''), ''), '') FROM outbox) AS text`)) as {
    text: string;
  }[];
  return rows[0]!.text;
}

/** Every sealed value of the rule tables names one of these key ids. */
async function keyIds(db: Database): Promise<Set<string>> {
  const text = await dump(db);
  return new Set([...text.matchAll(/enc:v1:([0-9a-f]{8}):/g)].map((m) => m[1]!));
}

let database: TestDatabase;
let tenantId: string;

beforeAll(async () => {
  database = await createTestDatabase("secrets_at_rest");
  await migrate(database.db);
  const tenant = await createTenant(database.db, { name: "secrets" });
  if (!tenant.ok) throw new Error("tenant");
  tenantId = tenant.tenant.id;
});
afterAll(async () => {
  await database.drop();
});

describe("webhook secrets at rest", () => {
  it("are sealed in rules, rule_events and never in the outbox; reads open them", async () => {
    const rule = ruleDoc(tenantId);
    const saved = await saveRule(database.db, { tenantId, rule, mode: "create" });
    expect(saved.ok && saved.record.rule.webhooks[0]?.signing_secret).toBe(SENTINELS[2]);
    const text = await dump(database.db);
    for (const sentinel of SENTINELS) expect(text).not.toContain(sentinel);
    expect(text).toContain(`enc:v1:${TEST_SECRETS.current.id}:`);

    const webhook = (await getRule(database.db, tenantId, rule.id))?.rule.webhooks[0];
    expect(webhook).toMatchObject({
      url: rule.webhooks[0]!.url,
      headers: rule.webhooks[0]!.headers,
      signing_secret: SENTINELS[2],
    });
    expect((await webhooksOfRuleVersion(database.db, rule.id, 1))?.[0]?.url).toBe(rule.webhooks[0]!.url);
    // Sealing again (fresh IVs) is no change: the store compares opened values.
    expect(await saveRule(database.db, { tenantId, rule, mode: "upsert" })).toMatchObject({
      ok: true,
      outcome: "unchanged",
    });
  });

  it("cannot be read without the key, and say which key is missing", async () => {
    const rule = ruleDoc(tenantId);
    await saveRule(database.db, { tenantId, rule, mode: "create" });
    const keyless = connectDatabase({ url: database.url, poolSize: 1 });
    const wrong = connectDatabase({ url: database.url, poolSize: 1, secrets: keyring(0x11) });
    try {
      await expect(getRule(keyless, tenantId, rule.id)).rejects.toMatchObject({ code: "secrets_key_missing" });
      await expect(getRule(wrong, tenantId, rule.id)).rejects.toThrow(
        new RegExp(`sealed under key ${TEST_SECRETS.current.id}, which is not among the configured keys`),
      );
    } finally {
      await keyless.dispose();
      await wrong.dispose();
    }
  });

  it("move to a new key on rotation, readable by the old and new keys until done", async () => {
    const next = keyring(0x22, TEST_SECRETS);
    const progress: string[] = [];
    const result = await resealAll((work) => database.db.tx(work), next, {
      batchSize: 1,
      onProgress: (p) => progress.push(`${p.table} ${p.scanned}`),
    });
    expect(result.resealed).toBeGreaterThanOrEqual(4);
    expect(progress).toContain("rule_events 1");
    expect(await keyIds(database.db)).toEqual(new Set([next.current.id]));
    const onlyNext = connectDatabase({ url: database.url, poolSize: 1, secrets: keyring(0x22) });
    try {
      const rules = (await onlyNext.query(sql`SELECT rule_id, tenant_id FROM rules`)) as {
        rule_id: string;
        tenant_id: string;
      }[];
      for (const r of rules) {
        expect((await getRule(onlyNext, r.tenant_id, r.rule_id))?.rule.webhooks[0]?.signing_secret).toBe(SENTINELS[2]);
      }
      // Back to the test key, so later tests read with it; a second pass has nothing to do.
      await resealAll((work) => onlyNext.tx(work), keyring(0x5e, next));
      expect((await resealAll((work) => onlyNext.tx(work), TEST_SECRETS)).resealed).toBe(0);
    } finally {
      await onlyNext.dispose();
    }
    expect(await keyIds(database.db)).toEqual(new Set([TEST_SECRETS.current.id]));
  });

  it("are purged from old versions only, and a purged version delivers nothing", async () => {
    const rule = ruleDoc(tenantId);
    await saveRule(database.db, { tenantId, rule, mode: "create" });
    await saveRule(database.db, { tenantId, rule: { ...rule, display_name: "v2" }, mode: "update" });
    const gone = ruleDoc(tenantId);
    await saveRule(database.db, { tenantId, rule: gone, mode: "create" });
    await deleteRule(database.db, { tenantId, ruleId: gone.id });

    // Nothing superseded before an hour ago: nothing purged.
    expect(await purgeHistorySecrets(database.db, new Date(Date.now() - 3_600_000))).toEqual({
      versions: 0,
      deletedRules: 0,
    });
    const purged = await purgeHistorySecrets(database.db, new Date(Date.now() + 60_000), { batchSize: 1 });
    expect(purged.versions).toBeGreaterThanOrEqual(3);
    expect(purged.deletedRules).toBe(1);

    expect(await webhooksOfRuleVersion(database.db, rule.id, 1)).toBeUndefined();
    expect((await webhooksOfRuleVersion(database.db, rule.id, 2))?.[0]?.signing_secret).toBe(SENTINELS[2]);
    const history = await ruleHistory(database.db, tenantId, rule.id);
    expect(history[0]?.rule.webhooks[0]).toEqual({
      id: history[1]?.rule.webhooks[0]?.id,
      url: "***",
      headers: { authorization: "***" },
    });
    expect(await webhooksOfRuleVersion(database.db, gone.id, 2)).toBeUndefined();
    // What a purge leaves is neither plaintext to seal nor anything to purge again.
    expect(await countPlaintextRows(database.db)).toBe(0);
    expect(await purgeHistorySecrets(database.db, new Date(Date.now() + 60_000))).toEqual({
      versions: 0,
      deletedRules: 0,
    });
  });
});

describe("migration 014", () => {
  it("seals the rows written before it, and refuses to run without the key while there are any", async () => {
    const old = await createTestDatabase("secrets_014");
    try {
      const before = (await loadMigrations()).filter((m) => m.version < 14);
      await migrate(old.db, before);
      const tenant = await createTenant(old.db, { name: "legacy" });
      if (!tenant.ok) throw new Error("tenant");
      const rule = { ...ruleDoc(tenant.tenant.id), session_id: null };
      const stored = JSON.stringify({ ...rule, webhooks: rule.webhooks.map((w) => ({ ...w, id: randomUUID() })) });
      await old.db.query(sql`
        INSERT INTO rule_events (tenant_id, rule_id, version, type, rule) VALUES (${tenant.tenant.id}, ${rule.id}, 1, 'created', ${stored}::jsonb)`);
      await old.db.query(sql`
        INSERT INTO rules (rule_id, tenant_id, version, rule) VALUES (${rule.id}, ${tenant.tenant.id}, 1, ${stored}::jsonb)`);
      expect(await countPlaintextRows(old.db)).toBe(2);

      const keyless = connectDatabase({ url: old.url, poolSize: 1 });
      try {
        const refused = await migrate(keyless).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(MigrationError);
        expect(String(refused)).toContain("seals the webhook secrets of 2 rule rows and needs the secrets key");
      } finally {
        await keyless.dispose();
      }

      expect((await migrate(old.db)).applied.map((m) => m.version)).toContain(14);
      expect(await countPlaintextRows(old.db)).toBe(0);
      const text = await dump(old.db);
      for (const sentinel of SENTINELS) expect(text).not.toContain(sentinel);
      const sealed = /"signing_secret": "(enc:v1:[^"]+)"/.exec(text)?.[1] ?? "";
      expect(sealedKeyId(sealed)).toBe(TEST_SECRETS.current.id);
      expect(openSecret(TEST_SECRETS, sealed)).toMatchObject({ ok: true, value: SENTINELS[2] });
      expect((await getRule(old.db, tenant.tenant.id, rule.id))?.rule.webhooks[0]?.url).toBe(rule.webhooks[0]!.url);
    } finally {
      await old.drop();
    }
  });
});
