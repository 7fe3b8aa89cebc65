import { createHash } from "node:crypto";
import { RateLimiter, TtlCache, admitKey, keyCache } from "@runhooks/limits";
import { describe, expect, it } from "vitest";

const hash = (key: string) => createHash("sha256").update(key).digest("base64");

function setup(
  keys: Record<string, string>,
  o: { validTtlMs?: number; invalidTtlMs?: number; maxEntries?: number } = {},
) {
  let now = 0;
  const asked: string[] = [];
  let fail = false;
  const cache = keyCache<string>({
    lookup: (key) => {
      asked.push(key);
      return fail ? Promise.reject(new Error("store down")) : Promise.resolve(keys[key]);
    },
    hash,
    validTtlMs: o.validTtlMs ?? 1000,
    invalidTtlMs: o.invalidTtlMs ?? 500,
    maxEntries: o.maxEntries ?? 100,
    now: () => now,
  });
  return { cache, asked, advance: (ms: number) => (now += ms), failNext: (v: boolean) => (fail = v) };
}

describe("key cache", () => {
  it("asks the store once per key and period, valid or wrong", async () => {
    const { cache, asked, advance } = setup({ good: "tenant-1" });
    expect((await cache.check("good")).principal).toBe("tenant-1");
    expect((await cache.check("good")).principal).toBe("tenant-1");
    expect((await cache.check("bad")).principal).toBeUndefined();
    expect((await cache.check("bad")).principal).toBeUndefined();
    expect(asked).toEqual(["good", "bad"]);
    advance(500); // the wrong key's 500 ms are over, the valid key's 1000 not
    await cache.check("bad");
    await cache.check("good");
    expect(asked).toEqual(["good", "bad", "bad"]);
    expect(cache.lookups).toBe(3);
  });

  it("shares one lookup among concurrent checks of one key", async () => {
    const { cache, asked } = setup({});
    const answers = await Promise.all(Array.from({ length: 50 }, () => cache.check("wrong")));
    expect(answers.every((a) => a.principal === undefined)).toBe(true);
    expect(asked).toEqual(["wrong"]);
  });

  it("keys everything by hash and never keeps a failure", async () => {
    const { cache, asked, failNext } = setup({ good: "t" });
    failNext(true);
    await expect(cache.check("good")).rejects.toThrow("store down");
    failNext(false);
    const check = await cache.check("good");
    expect(check).toEqual({ principal: "t", keyHash: hash("good") });
    expect(asked).toEqual(["good", "good"]);
  });

  it("a time to live of 0 caches nothing", async () => {
    const { cache, asked } = setup({}, { invalidTtlMs: 0 });
    await cache.check("x");
    await cache.check("x");
    expect(asked).toEqual(["x", "x"]);
  });
});

describe("TTL cache", () => {
  it.each<[string, number, number, number, string | undefined]>([
    // name, ttl, set at, read at, value read
    ["within its time", 100, 0, 99, "v"],
    ["expired at its time", 100, 0, 100, undefined],
    ["never stored with ttl 0", 0, 0, 0, undefined],
  ])("%s", (_name, ttl, setAt, readAt, value) => {
    const cache = new TtlCache<string>(10);
    cache.set("k", "v", ttl, setAt);
    expect(cache.get("k", readAt)).toBe(value);
  });

  it("holds at most maxEntries, the oldest going first", () => {
    const cache = new TtlCache<number>(2);
    cache.set("a", 1, 1000, 0);
    cache.set("b", 2, 1000, 0);
    cache.set("c", 3, 1000, 0);
    expect([cache.get("a", 1), cache.get("b", 1), cache.get("c", 1), cache.size]).toEqual([undefined, 2, 3, 2]);
  });
});

describe("admitting a key", () => {
  it.each<[string, string | undefined, string]>([
    ["no key", undefined, "missing_key"],
    ["an empty key", "", "missing_key"],
    ["a wrong key", "bad", "wrong_key"],
    ["a valid key", "good", "ok"],
  ])("%s", async (_name, key, expected) => {
    const { cache } = setup({ good: "t" });
    const answer = await admitKey(key, cache, new RateLimiter({ ratePerSecond: 1, burst: 1 }), () => 0);
    expect(answer.ok ? "ok" : answer.reason).toBe(expected);
  });

  it("spends the valid key's tokens only; wrong keys spend none", async () => {
    const { cache } = setup({ good: "t" });
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1 });
    for (let i = 0; i < 5; i++) await admitKey("bad", cache, limiter, () => 0);
    expect(await admitKey("good", cache, limiter, () => 0)).toEqual({ ok: true, principal: "t" });
    expect(await admitKey("good", cache, limiter, () => 0)).toEqual({
      ok: false,
      reason: "rate_limited",
      retryAfterMs: 1000,
    });
    expect(await admitKey("good", cache, limiter, () => 1000)).toEqual({ ok: true, principal: "t" });
  });
});
