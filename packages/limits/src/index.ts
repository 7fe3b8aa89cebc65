export { refill, retryAfterSeconds, takeToken, type Bucket, type BucketConfig, type Take } from "./token-bucket.js";
export { RateLimiter, type RateDecision } from "./rate-limiter.js";
export { TtlCache } from "./ttl-cache.js";
export { keyCache, type KeyCache, type KeyCacheOptions, type KeyCheck } from "./key-cache.js";
export { admitKey, type Admission } from "./admit.js";
