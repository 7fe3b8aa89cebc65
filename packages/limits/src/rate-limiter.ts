import { takeToken, type Bucket, type BucketConfig } from "./token-bucket.js";

export type RateDecision = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number };

/**
 * One token bucket per key (an API key's hash), at most `maxKeys` of them: the least recently used is
 * dropped first. Dropping a bucket hands its key a full one, so the bound only matters when more keys
 * than that are busy at once. Time is passed in.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly config: BucketConfig,
    private readonly maxKeys = 100_000,
  ) {}

  take(key: string, now: number): RateDecision {
    const result = takeToken(this.buckets.get(key), now, this.config);
    // Re-inserted: the map's order is the order of last use.
    this.buckets.delete(key);
    this.buckets.set(key, result.bucket);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    return result.ok ? { ok: true } : { ok: false, retryAfterMs: result.retryAfterMs };
  }

  get size(): number {
    return this.buckets.size;
  }
}
