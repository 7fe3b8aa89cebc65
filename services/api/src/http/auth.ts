import { createHash, timingSafeEqual } from "node:crypto";
import { authenticateApiKey, type Database } from "@runhooks/db";
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

/** The tenant a request acts for, from its API key; undefined if it has no valid key. */
export async function requestTenant(db: Database, request: FastifyRequest): Promise<string | undefined> {
  const key = presentedKey(request);
  if (key === undefined) return undefined;
  return (await authenticateApiKey(db, key))?.tenantId;
}
