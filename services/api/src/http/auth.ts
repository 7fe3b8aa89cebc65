import { createHash, timingSafeEqual } from "node:crypto";
import { authenticateApiKey, hashApiKey, type Database } from "@runhooks/db";
import { RunhooksError } from "@runhooks/errors";
import {
  RateLimiter,
  admitKey,
  keyCache,
  retryAfterSeconds,
  type Admission,
  type BucketConfig,
} from "@runhooks/limits";
import type { FastifyRequest } from "fastify";

/** The key a request carries: `x-api-key`, or `Authorization: Bearer <key>`. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers["x-api-key"];
  const direct = Array.isArray(header) ? header[0] : header;
  if (direct !== undefined && direct !== "") return direct;
  const authorization = request.headers.authorization;
  const bearer = authorization === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
  return bearer;
}

/** Compares two secrets in constant time (over their hashes, so lengths leak nothing either). */
export function sameSecret(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb);
}

export interface KeyGuardOptions {
  /** Requests per API key (token bucket). */
  readonly rate: BucketConfig;
  /** How long a wrong key is refused without asking Postgres again; 0: always asked. */
  readonly wrongKeyCacheMs: number;
  readonly now?: () => number;
}

/** Thrown by a route's key lookup when the key is over its rate: answered 429 with Retry-After. */
export class RateLimitedError extends RunhooksError {
  readonly code = "rate_limited";
  readonly retriable = true;
  override readonly name = "RateLimitedError";
  readonly statusCode = 429;
  readonly retryAfterSeconds: number;
  constructor(
    retryAfterMs: number,
    readonly rate: BucketConfig,
  ) {
    const seconds = retryAfterSeconds(retryAfterMs);
    super(
      `this API key sent more than ${rate.ratePerSecond} requests per second (bursts of ${rate.burst}); retry after ${seconds} s (RUNHOOKS_API_RATE_PER_S, RUNHOOKS_API_RATE_BURST)`,
    );
    this.retryAfterSeconds = seconds;
  }
}

export interface ApiKeyGuard {
  readonly rate: BucketConfig;
  /** Whether the request's key is valid and within its rate. Throws if Postgres fails. */
  admit(request: FastifyRequest): Promise<Admission<string>>;
  /** The tenant of the request's key; undefined for none or a wrong one; throws RateLimitedError. */
  tenantOf(request: FastifyRequest): Promise<string | undefined>;
}

/**
 * The API's key check: wrong keys are remembered (by hash) for `wrongKeyCacheMs`, so a flood of them
 * costs one Postgres lookup per key and period; valid keys are asked every time (a revocation takes
 * effect at once) and spend a token of their own bucket.
 */
export function apiKeyGuard(db: Database, o: KeyGuardOptions): ApiKeyGuard {
  const now = o.now ?? Date.now;
  const keys = keyCache<string>({
    lookup: async (key) => (await authenticateApiKey(db, key))?.tenantId,
    hash: (key) => hashApiKey(key).toString("base64"),
    validTtlMs: 0,
    invalidTtlMs: o.wrongKeyCacheMs,
    maxEntries: 10_000,
    now,
  });
  const limiter = new RateLimiter(o.rate);
  const admit = (request: FastifyRequest) => admitKey(presentedKey(request), keys, limiter, now);
  return {
    rate: o.rate,
    admit,
    async tenantOf(request) {
      const admission = await admit(request);
      if (admission.ok) return admission.principal;
      if (admission.reason === "rate_limited") throw new RateLimitedError(admission.retryAfterMs, o.rate);
      return undefined;
    },
  };
}
