import { createHash, randomBytes, randomUUID } from "node:crypto";
import { sql, type Queryable } from "@databases/pg";

/**
 * Tenants and their API keys. A key is `rh_` + 32 random bytes (base64url); only its SHA-256 is stored,
 * so the clear key exists once: in the answer to its creation. Ingest and the API authenticate with
 * `authenticateApiKey`.
 */

export const API_KEY_PREFIX = "rh_";

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly createdAt: Date;
}

export interface CreatedApiKey {
  readonly id: string;
  readonly tenantId: string;
  /** The clear key: show it once, store it nowhere. */
  readonly key: string;
  /** Its first characters, to tell keys apart. */
  readonly prefix: string;
  readonly description: string;
}

export interface ApiKeyPrincipal {
  readonly keyId: string;
  readonly tenantId: string;
}

export function hashApiKey(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}

export function generateApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
}

export type CreateTenantResult =
  { readonly ok: true; readonly tenant: Tenant } | { readonly ok: false; readonly reason: "exists" };

export async function createTenant(
  db: Queryable,
  input: { name: string; id?: string | undefined },
): Promise<CreateTenantResult> {
  const rows = (await db.query(sql`
    INSERT INTO tenants (id, name) VALUES (${input.id ?? randomUUID()}, ${input.name})
    ON CONFLICT (id) DO NOTHING
    RETURNING id, name, created_at`)) as { id: string; name: string; created_at: Date }[];
  const row = rows[0];
  if (!row) return { ok: false, reason: "exists" };
  return { ok: true, tenant: { id: row.id, name: row.name, createdAt: row.created_at } };
}

export async function getTenant(db: Queryable, tenantId: string): Promise<Tenant | undefined> {
  const rows = (await db.query(sql`SELECT id, name, created_at FROM tenants WHERE id = ${tenantId}`)) as {
    id: string;
    name: string;
    created_at: Date;
  }[];
  const row = rows[0];
  return row ? { id: row.id, name: row.name, createdAt: row.created_at } : undefined;
}

/** A new key for an existing tenant; undefined if there is no such tenant. */
export async function createApiKey(
  db: Queryable,
  tenantId: string,
  description = "",
): Promise<CreatedApiKey | undefined> {
  const key = generateApiKey();
  const prefix = key.slice(0, API_KEY_PREFIX.length + 6);
  const id = randomUUID();
  const rows = (await db.query(sql`
    INSERT INTO api_keys (id, tenant_id, key_hash, key_prefix, description)
    SELECT ${id}, id, ${hashApiKey(key)}, ${prefix}, ${description} FROM tenants WHERE id = ${tenantId}
    RETURNING id`)) as { id: string }[];
  if (!rows[0]) return undefined;
  return { id, tenantId, key, prefix, description };
}

/** The tenant a clear key belongs to, if the key exists and is not revoked. */
export async function authenticateApiKey(db: Queryable, key: string): Promise<ApiKeyPrincipal | undefined> {
  if (key === "") return undefined;
  const rows = (await db.query(sql`
    SELECT id, tenant_id FROM api_keys WHERE key_hash = ${hashApiKey(key)} AND revoked_at IS NULL`)) as {
    id: string;
    tenant_id: string;
  }[];
  const row = rows[0];
  return row ? { keyId: row.id, tenantId: row.tenant_id } : undefined;
}

/** Revokes a key; false if it did not exist or was revoked already. */
export async function revokeApiKey(db: Queryable, keyId: string): Promise<boolean> {
  const rows = (await db.query(sql`
    UPDATE api_keys SET revoked_at = now() WHERE id = ${keyId} AND revoked_at IS NULL RETURNING id`)) as unknown[];
  return rows.length > 0;
}
