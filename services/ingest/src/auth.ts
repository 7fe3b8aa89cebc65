import { authenticateApiKey, hashApiKey, type Database } from "@runhooks/db";

/** The key a request carries: `x-api-key` (what the LangSmith SDKs send), or `Authorization: Bearer`. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const header = headers["x-api-key"];
  const direct = Array.isArray(header) ? header[0] : header;
  if (direct !== undefined && direct !== "") return direct;
  const authorization = headers["authorization"];
  const value = Array.isArray(authorization) ? authorization[0] : authorization;
  return value === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(value)?.[1];
}

export interface KeyLookup {
  /** The tenant of a valid key; undefined for a wrong or revoked one. Throws if Postgres fails. */
  tenantOf(key: string): Promise<string | undefined>;
}

/**
 * The API's keys (`authenticateApiKey`), with valid ones remembered for `ttlMs` (keyed by the key's
 * hash; the clear key is never kept), so a stream of batches costs one lookup per key and period.
 * A revoked key therefore works for at most `ttlMs` more. Wrong keys are never cached.
 */
export function cachedKeyLookup(db: Database, ttlMs: number, now: () => number = Date.now): KeyLookup {
  const cache = new Map<string, { tenantId: string; until: number }>();
  return {
    async tenantOf(key) {
      const hash = hashApiKey(key).toString("base64");
      const hit = cache.get(hash);
      if (hit && hit.until > now()) return hit.tenantId;
      const principal = await authenticateApiKey(db, key);
      if (!principal) {
        cache.delete(hash);
        return undefined;
      }
      if (ttlMs > 0) {
        if (cache.size >= 10_000) cache.clear();
        cache.set(hash, { tenantId: principal.tenantId, until: now() + ttlMs });
      }
      return principal.tenantId;
    },
  };
}
