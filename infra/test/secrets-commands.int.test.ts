import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rule } from "@runhooks/contracts";
import {
  connectDatabase,
  createTenant,
  generateSecretKey,
  getRule,
  migrate,
  requireSecretsKeyring,
  saveRule,
  sql,
} from "@runhooks/db";
import { purgeSecrets, rotateSecretsKey } from "../src/secrets-commands.js";
import { secretsKeyFile } from "../src/secrets-key.js";
import { createTestDatabase, type TestDatabase } from "../../test/support/stack.js";

let database: TestDatabase;
let stateDir: string;

beforeAll(async () => {
  database = await createTestDatabase("rotate");
  stateDir = await mkdtemp(join(tmpdir(), "runhooks-rotate-"));
});
afterAll(async () => {
  await database.drop();
  await rm(stateDir, { recursive: true, force: true });
});

describe("npm run infra -- rotate-secrets-key", () => {
  it("re-seals every value under a new key, with progress, then drops the old key", async () => {
    const file = secretsKeyFile(stateDir);
    await writeFile(file, `${generateSecretKey()}\n`, { mode: 0o600 });
    const first = requireSecretsKeyring({ RUNHOOKS_SECRETS_KEY_FILE: file });
    const db = connectDatabase({ url: database.url, poolSize: 1, secrets: first });
    await migrate(db);
    const tenant = await createTenant(db, { name: "rotate" });
    if (!tenant.ok) throw new Error("tenant");
    const rule = Rule.parse({
      id: randomUUID(),
      tenant_id: tenant.tenant.id,
      display_name: "rotate",
      filter: true,
      webhooks: [{ url: "https://example.com/hook?token=rotate-me", headers: { "x-key": "h" } }],
    });
    await saveRule(db, { tenantId: tenant.tenant.id, rule, mode: "create" });
    await db.dispose();

    const lines: string[] = [];
    expect(await rotateSecretsKey(database.url, stateDir, {}, [], (l) => lines.push(l))).toBe(0);
    const second = requireSecretsKeyring({ RUNHOOKS_SECRETS_KEY_FILE: file });
    expect(second.current.id).not.toBe(first.current.id);
    expect([...second.byId.keys()]).toEqual([second.current.id]);
    expect((await readFile(file, "utf8")).trim().split("\n")).toHaveLength(1);
    expect(lines).toContain("re-sealing rule_events: 1 rows scanned, 1 re-sealed");
    expect(lines).toContain(`re-sealed 2 of 2 rows under ${second.current.id}`);
    const text = (await database.db.query(sql`SELECT string_agg(rule::text, '') AS t FROM rule_events`)) as {
      t: string;
    }[];
    expect(text[0]!.t).toContain(`enc:v1:${second.current.id}:`);
    expect(text[0]!.t).not.toContain(`enc:v1:${first.current.id}:`);

    const reader = connectDatabase({ url: database.url, poolSize: 1, secrets: second });
    try {
      expect((await getRule(reader, tenant.tenant.id, rule.id))?.rule.webhooks[0]?.url).toBe(rule.webhooks[0]!.url);
    } finally {
      await reader.dispose();
    }

    const purged: string[] = [];
    await purgeSecrets(database.url, ["--older-than-days", "0"], (l) => purged.push(l));
    expect(purged.at(-1)).toBe("purged the secrets of 0 old rule versions and 0 deleted rules");
  });

  it("refuses an inline key, which it cannot rewrite", async () => {
    await expect(
      rotateSecretsKey(database.url, stateDir, { RUNHOOKS_SECRETS_KEY: generateSecretKey() }, [], () => undefined),
    ).rejects.toThrow(/set RUNHOOKS_SECRETS_KEY_FILE instead/);
  });
});
