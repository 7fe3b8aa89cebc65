import { RateLimiter, retryAfterSeconds, takeToken, type Bucket } from "@runhooks/limits";
import { describe, expect, it } from "vitest";

const config = { ratePerSecond: 2, burst: 3 };

describe("token bucket", () => {
  it.each<[string, Bucket | undefined, number, boolean, number, number | undefined]>([
    // name, bucket, now, ok, tokens after, retryAfterMs
    ["a new client starts full", undefined, 1000, true, 2, undefined],
    ["the last token", { tokens: 1, at: 1000 }, 1000, true, 0, undefined],
    ["empty: wait for one token (1/rate)", { tokens: 0, at: 1000 }, 1000, false, 0, 500],
    ["half a token: wait for the other half", { tokens: 0.5, at: 1000 }, 1000, false, 0.5, 250],
    ["refilled by the time passed", { tokens: 0, at: 1000 }, 1500, true, 0, undefined],
    ["refilled no further than the burst", { tokens: 0, at: 1000 }, 60_000, true, 2, undefined],
    ["a clock stepping back refills nothing", { tokens: 0, at: 1000 }, 500, false, 0, 500],
  ])("%s", (_name, bucket, now, ok, tokens, retryAfterMs) => {
    const result = takeToken(bucket, now, config);
    expect(result.ok).toBe(ok);
    expect(result.bucket.tokens).toBeCloseTo(tokens, 9);
    expect(result.ok ? undefined : result.retryAfterMs).toBe(retryAfterMs);
  });

  it("a rate of zero never refills; a cost over the burst never fits", () => {
    expect(takeToken({ tokens: 0, at: 0 }, 10_000, { ratePerSecond: 0, burst: 5 })).toMatchObject({
      ok: false,
      retryAfterMs: Infinity,
    });
    expect(takeToken(undefined, 0, config, 4)).toMatchObject({ ok: false, retryAfterMs: Infinity });
  });

  it.each([
    [0, 1],
    [1, 1],
    [1000, 1],
    [1001, 2],
    [Infinity, 3600],
    [10_000_000, 3600],
  ])("Retry-After for %d ms is %d s", (ms, seconds) => {
    expect(retryAfterSeconds(ms)).toBe(seconds);
  });
});

describe("rate limiter", () => {
  it("keeps one bucket per key: one key's burst does not spend another's", () => {
    const limiter = new RateLimiter(config);
    const answers = [1, 2, 3, 4].map(() => limiter.take("a", 0).ok);
    expect(answers).toEqual([true, true, true, false]);
    expect(limiter.take("b", 0).ok).toBe(true);
    expect(limiter.take("a", 0)).toEqual({ ok: false, retryAfterMs: 500 });
    expect(limiter.take("a", 500).ok).toBe(true);
  });

  it("holds at most maxKeys buckets, dropping the least recently used", () => {
    const limiter = new RateLimiter(config, 2);
    for (let i = 0; i < 3; i++) limiter.take("a", 0);
    limiter.take("b", 0);
    limiter.take("a", 0); // refused, and now the most recently used
    limiter.take("c", 0); // drops b
    expect(limiter.size).toBe(2);
    expect(limiter.take("a", 0).ok).toBe(false);
  });
});
