export { refill, retryAfterSeconds, takeToken, type Bucket, type BucketConfig, type Take } from "./token-bucket.js";
export { RateLimiter, type RateDecision } from "./rate-limiter.js";
export { TtlCache } from "./ttl-cache.js";
export { keyCache, type KeyCache, type KeyCacheOptions, type KeyCheck } from "./key-cache.js";
export { DEFAULT_MAX_JSON_DEPTH, checkJsonDepth, depthOf, nestsDeeperThan, type DepthCheck } from "./json-depth.js";
export { admitKey, type Admission } from "./admit.js";
