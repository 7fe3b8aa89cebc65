/**
 * A token bucket: `burst` tokens at most, refilled at `ratePerSecond`; a request takes one. Pure: the
 * time is passed in (milliseconds), the bucket is a value.
 */

export interface BucketConfig {
  /** Tokens added per second (the sustained rate). */
  readonly ratePerSecond: number;
  /** Tokens held at most (the burst a quiet client may send at once). */
  readonly burst: number;
}

export interface Bucket {
  readonly tokens: number;
  /** When `tokens` was true (ms). */
  readonly at: number;
}

export type Take =
  | { readonly ok: true; readonly bucket: Bucket }
  | { readonly ok: false; readonly bucket: Bucket; readonly retryAfterMs: number };

/** The bucket as it stands at `now`: refilled for the time passed, never above `burst`. */
export function refill(bucket: Bucket | undefined, now: number, config: BucketConfig): Bucket {
  if (bucket === undefined) return { tokens: config.burst, at: now };
  // A clock that steps back refills nothing (and does not move `at` back).
  const elapsed = Math.max(0, now - bucket.at);
  return {
    tokens: Math.min(config.burst, bucket.tokens + (elapsed * config.ratePerSecond) / 1000),
    at: Math.max(now, bucket.at),
  };
}

/** Takes `cost` tokens, or says how long until they are there. A new client starts with a full bucket. */
export function takeToken(bucket: Bucket | undefined, now: number, config: BucketConfig, cost = 1): Take {
  const current = refill(bucket, now, config);
  if (current.tokens >= cost) return { ok: true, bucket: { tokens: current.tokens - cost, at: current.at } };
  const missing = cost - current.tokens;
  const retryAfterMs =
    config.ratePerSecond > 0 && cost <= config.burst
      ? Math.ceil((missing * 1000) / config.ratePerSecond)
      : Number.POSITIVE_INFINITY;
  return { ok: false, bucket: current, retryAfterMs };
}

/** Whole seconds for a `Retry-After` header: at least 1, rounded up. */
export function retryAfterSeconds(retryAfterMs: number, maxSeconds = 3600): number {
  if (!Number.isFinite(retryAfterMs)) return maxSeconds;
  return Math.min(maxSeconds, Math.max(1, Math.ceil(retryAfterMs / 1000)));
}
