import { TtlCache } from "./ttl-cache.js";

export interface KeyCacheOptions<P> {
  /** The principal of a clear key, or undefined for a wrong or revoked one; throws when the store fails. */
  readonly lookup: (key: string) => Promise<P | undefined>;
  /** A one-way hash of the key: the only form the cache keeps. */
  readonly hash: (key: string) => string;
  /** How long a valid key is trusted without asking again (revocation delay); 0: never cached. */
  readonly validTtlMs: number;
  /** How long a wrong key is refused without asking again; 0: never cached. */
  readonly invalidTtlMs: number;
  /** Entries per cache (valid and wrong keys each). */
  readonly maxEntries: number;
  readonly now: () => number;
}

export interface KeyCheck<P> {
  /** Undefined: a wrong or revoked key. */
  readonly principal: P | undefined;
  /** The key's hash, for per-key accounting (rate limits) without keeping the key. */
  readonly keyHash: string;
}

export interface KeyCache<P> {
  check(key: string): Promise<KeyCheck<P>>;
  /** Lookups that reached the store (misses of both caches, concurrent ones counted once). */
  readonly lookups: number;
}

/**
 * API keys checked against the store at most once per key and period: valid keys are remembered for
 * `validTtlMs`, wrong ones for `invalidTtlMs`, and concurrent checks of one key share one lookup — so a
 * flood of one wrong key costs one store lookup per period. Both caches are bounded and keyed by hash.
 */
export function keyCache<P>(o: KeyCacheOptions<P>): KeyCache<P> {
  const valid = new TtlCache<P>(o.maxEntries);
  const invalid = new TtlCache<true>(o.maxEntries);
  const inFlight = new Map<string, Promise<P | undefined>>();
  let lookups = 0;
  return {
    get lookups() {
      return lookups;
    },
    async check(key) {
      const keyHash = o.hash(key);
      const now = o.now();
      const known = valid.get(keyHash, now);
      if (known !== undefined) return { principal: known, keyHash };
      if (invalid.get(keyHash, now) !== undefined) return { principal: undefined, keyHash };
      let pending = inFlight.get(keyHash);
      if (pending === undefined) {
        lookups++;
        pending = o.lookup(key).then(
          (principal) => {
            inFlight.delete(keyHash);
            const at = o.now();
            if (principal === undefined) invalid.set(keyHash, true, o.invalidTtlMs, at);
            else valid.set(keyHash, principal, o.validTtlMs, at);
            return principal;
          },
          (error: unknown) => {
            inFlight.delete(keyHash);
            throw error;
          },
        );
        inFlight.set(keyHash, pending);
      }
      return { principal: await pending, keyHash };
    },
  };
}
