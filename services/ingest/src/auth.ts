import { authenticateApiKey, hashApiKey, type Database } from "@runhooks/db";
import { RateLimiter, admitKey, keyCache, type Admission, type BucketConfig } from "@runhooks/limits";

/** The key a request carries: `x-api-key` (what the LangSmith SDKs send), or `Authorization: Bearer`. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const header = headers["x-api-key"];
  const direct = Array.isArray(header) ? header[0] : header;
  if (direct !== undefined && direct !== "") return direct;
  const authorization = headers["authorization"];
  const value = Array.isArray(authorization) ? authorization[0] : authorization;
  return value === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(value)?.[1];
}

export interface KeyGuardOptions {
  /** How long a valid key is trusted without asking Postgres again (its revocation delay). */
  readonly validKeyCacheMs: number;
  /** How long a wrong key is refused without asking Postgres again. */
  readonly wrongKeyCacheMs: number;
  /** Requests per API key. */
  readonly rate: BucketConfig;
  /** Called for each lookup that reaches Postgres (for the metrics). */
  readonly onLookup?: () => void;
  readonly now?: () => number;
}

export interface KeyGuard {
  /** Throws if Postgres fails. */
  admit(headers: Record<string, string | string[] | undefined>): Promise<Admission<string>>;
}

/**
 * The API's keys (`authenticateApiKey`) behind the shared key cache (keyed by the key's hash; the
 * clear key is never kept) and a token bucket per key: a stream of batches costs one lookup per key
 * and period, and so does a flood of one wrong key.
 */
export function keyGuard(db: Database, o: KeyGuardOptions): KeyGuard {
  const now = o.now ?? Date.now;
  const keys = keyCache<string>({
    lookup: async (key) => {
      o.onLookup?.();
      return (await authenticateApiKey(db, key))?.tenantId;
    },
    hash: (key) => hashApiKey(key).toString("base64"),
    validTtlMs: o.validKeyCacheMs,
    invalidTtlMs: o.wrongKeyCacheMs,
    maxEntries: 10_000,
    now,
  });
  const limiter = new RateLimiter(o.rate);
  return { admit: (headers) => admitKey(presentedKey(headers), keys, limiter, now) };
}
