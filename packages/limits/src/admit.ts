import type { KeyCache } from "./key-cache.js";
import type { RateLimiter } from "./rate-limiter.js";

export type Admission<P> =
  | { readonly ok: true; readonly principal: P }
  | { readonly ok: false; readonly reason: "missing_key" | "wrong_key" }
  | { readonly ok: false; readonly reason: "rate_limited"; readonly retryAfterMs: number };

/**
 * Whether a request with this key goes on: a valid key within its rate. Only valid keys spend tokens
 * (wrong keys cost a cache hit); the bucket is the key's, by hash. Throws when the key store fails.
 */
export async function admitKey<P>(
  key: string | undefined,
  keys: KeyCache<P>,
  limiter: RateLimiter,
  now: () => number,
): Promise<Admission<P>> {
  if (key === undefined || key === "") return { ok: false, reason: "missing_key" };
  const { principal, keyHash } = await keys.check(key);
  if (principal === undefined) return { ok: false, reason: "wrong_key" };
  const rate = limiter.take(keyHash, now());
  return rate.ok ? { ok: true, principal } : { ok: false, reason: "rate_limited", retryAfterMs: rate.retryAfterMs };
}
