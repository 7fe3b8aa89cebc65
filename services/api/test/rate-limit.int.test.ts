import { buildApp } from "@runhooks/api";
import { createApiKey, createTenant, migrate, revokeApiKey, type Database } from "@runhooks/db";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/support/stack.js";

/** The real database, its queries counted: how many reached Postgres. */
function counted(db: Database): { db: Database; queries: () => number } {
  let queries = 0;
  const proxy = new Proxy(db, {
    get(target, property, receiver) {
      if (property === "query") {
        return (...args: Parameters<Database["query"]>) => {
          queries++;
          return (target.query as (...a: unknown[]) => unknown)(...args);
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { db: proxy, queries: () => queries };
}

describe("API keys: a rate per key and a cache of wrong keys", () => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let url: string;
  let queries: () => number;
  const keys: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase("api-rate");
    await migrate(database.db);
    for (const name of ["one", "two"]) {
      const tenant = await createTenant(database.db, { name });
      if (!tenant.ok) throw new Error("tenant exists");
      keys.push((await createApiKey(database.db, tenant.tenant.id, name))!.key);
    }
    const wrapped = counted(database.db);
    queries = wrapped.queries;
    app = buildApp({
      db: wrapped.db,
      rateLimit: { ratePerSecond: 0.001, burst: 3 },
      wrongKeyCacheMs: 60_000,
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const address = app.server.address();
    url = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
  });
  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  const get = async (path: string, key?: string) => {
    const response = await fetch(`${url}${path}`, { headers: key === undefined ? {} : { "x-api-key": key } });
    return {
      status: response.status,
      body: (await response.json()) as { error?: string; message?: string },
      retryAfter: response.headers.get("retry-after"),
    };
  };

  it("answers 429 with Retry-After past a key's burst, on the rules and the deliveries routes; other keys unaffected", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await get("/rules", keys[0])).status);
    expect(statuses).toEqual([200, 200, 200]);
    const rules = await get("/rules", keys[0]);
    expect(rules.status).toBe(429);
    expect(rules.body.error).toBe("rate_limited");
    expect(rules.body.message).toContain("RUNHOOKS_API_RATE_PER_S");
    expect(Number(rules.retryAfter)).toBeGreaterThanOrEqual(1);
    const deliveries = await get("/deliveries", keys[0]);
    expect(deliveries.status).toBe(429);
    expect(deliveries.retryAfter).not.toBeNull();
    expect((await get("/deliveries", keys[1])).status).toBe(200);
    expect((await get("/healthz")).status).toBe(200);
  });

  it("answers a flood of one wrong key with one Postgres lookup; the clear key is never echoed", async () => {
    const before = queries();
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => get(i % 2 === 0 ? "/rules" : "/deliveries", "rh_not-a-key-of-anyone")),
    );
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 100 }, () => 401));
    expect(queries() - before).toBe(1);
    expect(JSON.stringify(answers)).not.toContain("rh_not-a-key");
    expect((await get("/healthz")).status).toBe(200);
  });

  it("still asks Postgres for valid keys: a revoked key is refused at once", async () => {
    const tenant = await createTenant(database.db, { name: "revoked" });
    if (!tenant.ok) throw new Error("tenant exists");
    const key = (await createApiKey(database.db, tenant.tenant.id, "soon revoked"))!;
    expect((await get("/rules", key.key)).status).toBe(200);
    await revokeApiKey(database.db, key.id);
    expect((await get("/rules", key.key)).status).toBe(401);
  });
});
