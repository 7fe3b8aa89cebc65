import { randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import { createApiKey, createTenant } from "@runhooks/db";
import type { Ingest } from "@runhooks/ingest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIngestHarness, type IngestHarness } from "./harness.js";
import { completeRun } from "./run-fixture.js";
import { multipartBody, runParts, type Part } from "./multipart-body.js";

/** `{"a":{"a":…{}…}}`, `depth` objects deep, as JSON text (JSON.stringify itself would overflow). */
function nested(depth: number): string {
  return `${'{"a":'.repeat(depth - 1)}{}${"}".repeat(depth - 1)}`;
}

/** JSON text with `"@deep"` replaced by `deep`. */
const withDeep = (value: unknown, deep: string): string => JSON.stringify(value).replace('"@deep"', deep);

interface Answer {
  status: number;
  body: { error?: string; message?: string; issues?: { part: string; path: string; message: string }[] };
  headers: Headers;
}

describe("ingest refuses abuse with a clear 4xx and stays healthy", () => {
  let h: IngestHarness;
  let ingest: Ingest;
  const logs: { level: string; message: string; fields?: Record<string, unknown> }[] = [];

  beforeAll(async () => {
    h = await createIngestHarness("hardening");
    ingest = await h.start({
      // Long enough that a flood on a loaded machine stays within one period of the wrong-key cache.
      wrongKeyCacheMs: 60_000,
      log: (level, message, fields) => void logs.push({ level, message, ...(fields === undefined ? {} : { fields }) }),
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  const call = async (
    method: string,
    path: string,
    body?: Buffer | string,
    headers: Record<string, string> = {},
    key: string | null = h.apiKey,
    base = ingest.url,
  ): Promise<Answer> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(key === null ? {} : { "x-api-key": key }),
        ...(typeof body === "string" ? { "content-type": "application/json" } : {}),
        ...headers,
      },
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: (text === "" ? {} : JSON.parse(text)) as Answer["body"],
      headers: response.headers,
    };
  };
  const healthy = async (base = ingest.url) => {
    const answer = await fetch(`${base}/healthz`);
    expect(answer.status).toBe(200);
  };
  const newTenantKey = async (name: string): Promise<string> => {
    const tenant = await createTenant(h.database.db, { name });
    if (!tenant.ok) throw new Error("tenant exists");
    return (await createApiKey(h.database.db, tenant.tenant.id, name))!.key;
  };

  it("answers an unknown path 401 without a key and 404 with one, never reading (or inflating) its body", async () => {
    // 30 KiB on the wire, 30 MiB inflated.
    const bomb = gzipSync(Buffer.alloc(30 * 1024 * 1024, 32), { level: 9 });
    expect(bomb.length).toBeLessThan(64 * 1024);
    const bodiesBefore = [...ingest.counters.encodings.values()].reduce((a, b) => a + b, 0);
    const headers = { "content-type": "application/json", "content-encoding": "gzip" };
    const anonymous = await call("POST", "/nowhere", bomb, headers, null);
    expect(anonymous.status).toBe(401);
    expect((await call("POST", "/runs/batch", bomb, headers, "rh_wrong")).status).toBe(401);
    const known = await call("POST", "/nowhere", bomb, headers);
    expect(known.status).toBe(404);
    // No body was read: none was counted by its encoding.
    expect([...ingest.counters.encodings.values()].reduce((a, b) => a + b, 0)).toBe(bodiesBefore);
    await healthy();
  });

  it("answers 415 to unknown encodings, all counted under one label", async () => {
    for (const encoding of ["zstd", "snappy", "x-custom-1", "x-custom-2"]) {
      const answer = await call("POST", "/runs/batch", Buffer.from("{}"), {
        "content-type": "application/json",
        "content-encoding": encoding,
      });
      expect(answer.status, encoding).toBe(415);
    }
    expect(
      [...ingest.counters.encodings.keys()].every((label) =>
        ["identity", "gzip", "x-gzip", "deflate", "br", "other"].includes(label),
      ),
    ).toBe(true);
    expect(ingest.counters.encodings.get("other")).toBe(4);
    const metrics = await (await fetch(`${ingest.url}/metrics`)).text();
    expect(metrics).toMatch(/runhooks_ingest_bodies_total\{content_encoding="other"\} 4/);
    expect(metrics).not.toContain("x-custom");
    await healthy();
  });

  it("answers 413 naming the limit to more runs than /info's size_limit, as batch and as multipart", async () => {
    const runs = Array.from({ length: 101 }, () => completeRun());
    const batch = await call("POST", "/runs/batch", JSON.stringify({ post: runs }));
    expect(batch.status).toBe(413);
    expect(batch.body.error).toBe("too_many_runs");
    expect(batch.body.message).toContain(
      "101 run operations; the limit is 100 per request (RUNHOOKS_INGEST_BATCH_SIZE",
    );
    const mp = multipartBody(
      runs.flatMap((r) => runParts("post", r)),
      { gzip: true },
    );
    const multipart = await call("POST", "/runs/multipart", mp.body, mp.headers);
    expect(multipart.status).toBe(413);
    expect(multipart.body.message).toContain("RUNHOOKS_INGEST_BATCH_SIZE");
    // At the limit: accepted.
    expect((await call("POST", "/runs/batch", JSON.stringify({ post: runs.slice(0, 100) }))).status).toBe(202);
    await healthy();
  });

  it("answers 413 to more multipart parts than the limit, and 400 (each part named once) to field parts without their run", async () => {
    const orphans: Part[] = Array.from({ length: 20_000 }, () => ({ name: `post.${randomUUID()}.inputs`, data: "{}" }));
    const many = multipartBody(orphans, { gzip: true });
    const tooMany = await call("POST", "/runs/multipart", many.body, many.headers);
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.error).toBe("too_many_parts");
    expect(tooMany.body.message).toContain("the limit is 10000 per request (RUNHOOKS_INGEST_MAX_PARTS)");
    const within = multipartBody(orphans.slice(0, 9_000), { gzip: true });
    const refused = await call("POST", "/runs/multipart", within.body, within.headers);
    expect(refused.status).toBe(400);
    expect(refused.body.issues).toHaveLength(100);
    expect((refused.body as { issues_total?: number }).issues_total).toBe(9_000);
    expect(refused.body.message).toContain("and 8900 more");
    await healthy();
  });

  it("answers 400 naming the part to runs nested past the depth limit, on every route; at the limit they pass", async () => {
    const deep = nested(5_000);
    const single = completeRun({ inputs: "@deep" });
    const id = String(single["id"]);
    const answers = {
      runs: await call("POST", "/runs", withDeep(single, deep)),
      batch: await call("POST", "/runs/batch", withDeep({ post: [completeRun(), single] }, deep)),
      patch: await call("PATCH", `/runs/${id}`, withDeep({ outputs: "@deep" }, deep)),
      multipart: await (async () => {
        const parts = runParts("post", { ...single, inputs: undefined });
        const mp = multipartBody([...parts, { name: `post.${id}.inputs`, data: deep }], { gzip: true });
        return call("POST", "/runs/multipart", mp.body, mp.headers);
      })(),
    };
    const parts = { runs: "(body)", batch: "post[1]", patch: "(body)", multipart: `post.${id}.inputs` };
    for (const [route, answer] of Object.entries(answers)) {
      expect(answer.status, route).toBe(400);
      expect(answer.body.issues, route).toContainEqual(
        expect.objectContaining({ part: parts[route as keyof typeof parts] }),
      );
      expect(answer.body.message, route).toContain("RUNHOOKS_INGEST_MAX_JSON_DEPTH");
    }
    // Just under the limit (the run is level 1, its inputs level 2): accepted and produced.
    const fine = completeRun({ inputs: "@deep" });
    expect((await call("POST", "/runs/batch", withDeep({ post: [fine] }, nested(250)))).status).toBe(202);
    await h.waitForRuns((runs) => runs.some((r) => r.run["id"] === fine["id"]));
    expect(logs.filter((l) => l.level === "error")).toEqual([]);
    await healthy();
  });

  it("answers 400 with a generic message (the detail in the log) when Postgres refuses a run's data", async () => {
    const bad = completeRun({ end_time: undefined, inputs: { text: "nul \u0000 byte" } });
    const answer = await call("POST", "/runs/batch", JSON.stringify({ post: [bad] }));
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe("invalid_data");
    expect(answer.headers.get("retry-after")).toBeNull();
    expect(answer.body.message).not.toMatch(/unsupported Unicode|22P05|jsonb/i);
    expect(logs).toContainEqual(
      expect.objectContaining({ level: "warn", message: "Postgres refused the data of incomplete runs" }),
    );
    expect(ingest.counters.database_unavailable).toBe(0);
    await healthy();
  });

  it("caps the incomplete runs of a tenant with 429, other tenants unaffected, completions still accepted", async () => {
    const capped = await h.start({ maxPendingPerTenant: 5 });
    const key = await newTenantKey("pending-cap");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = randomUUID();
      ids.push(id);
      expect(
        (
          await call(
            "PATCH",
            `/runs/${id}`,
            JSON.stringify({ end_time: "2026-01-01T00:00:01.000Z", outputs: { i } }),
            {},
            key,
            capped.url,
          )
        ).status,
      ).toBe(202);
    }
    const full = await call("PATCH", `/runs/${randomUUID()}`, JSON.stringify({ outputs: {} }), {}, key, capped.url);
    expect(full.status).toBe(429);
    expect(full.body.error).toBe("too_many_pending_runs");
    expect(full.body.message).toContain("holds 5 incomplete runs");
    expect(full.body.message).toContain("the limit is 5 (RUNHOOKS_INGEST_MAX_PENDING_PER_TENANT)");
    expect(full.headers.get("retry-after")).not.toBeNull();
    // Another tenant holds its own.
    expect(
      (await call("PATCH", `/runs/${randomUUID()}`, JSON.stringify({ outputs: {} }), {}, h.apiKey, capped.url)).status,
    ).toBe(202);
    // Completing a held run (its create, the held update has its end) adds none: accepted, and it makes room for one more.
    const create = completeRun({
      id: ids[0],
      end_time: undefined,
      trace_id: ids[0],
      dotted_order: `20260101T000000000000Z${ids[0]}`,
    });
    expect((await call("POST", "/runs", JSON.stringify(create), {}, key, capped.url)).status).toBe(202);
    await h.waitForRuns((runs) => runs.some((r) => r.run["id"] === ids[0]));
    expect(
      (await call("PATCH", `/runs/${randomUUID()}`, JSON.stringify({ outputs: {} }), {}, key, capped.url)).status,
    ).toBe(202);
    expect(
      (await call("PATCH", `/runs/${randomUUID()}`, JSON.stringify({ outputs: {} }), {}, key, capped.url)).status,
    ).toBe(429);
    // A second instance starts from the store's counts.
    const second = await h.start({ maxPendingPerTenant: 5 });
    expect(
      (await call("PATCH", `/runs/${randomUUID()}`, JSON.stringify({ outputs: {} }), {}, key, second.url)).status,
    ).toBe(429);
    await healthy(capped.url);
    await capped.stop();
    await second.stop();
  });

  it("limits each API key's rate with 429 and Retry-After; other keys and /healthz unaffected", async () => {
    const limited = await h.start({ ratePerSecond: 0.001, rateBurst: 3 });
    const key = await newTenantKey("rate");
    const body = () => JSON.stringify({ post: [completeRun()] });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await call("POST", "/runs/batch", body(), {}, key, limited.url)).status);
    expect(statuses).toEqual([202, 202, 202, 429]);
    const refused = await call("POST", "/runs/batch", body(), {}, key, limited.url);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toBe("rate_limited");
    expect(refused.body.message).toContain("RUNHOOKS_INGEST_RATE_PER_S");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await call("POST", "/runs/batch", body(), {}, h.apiKey, limited.url)).status).toBe(202);
    await healthy(limited.url);
    await limited.stop();
  });

  it("answers a flood of one wrong key from its cache: one Postgres lookup", async () => {
    const before = ingest.counters.key_lookups;
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => call("POST", "/runs/batch", "{}", {}, "rh_flood-of-the-same-wrong-key")),
    );
    expect(answers.every((a) => a.status === 401)).toBe(true);
    expect(ingest.counters.key_lookups - before).toBe(1);
    // A valid key after it is looked up once too, and accepted.
    expect((await call("POST", "/runs/batch", JSON.stringify({ post: [completeRun()] }))).status).toBe(202);
    expect(await (await fetch(`${ingest.url}/metrics`)).text()).toMatch(/runhooks_ingest_key_lookups_total [1-9]/);
    await healthy();
  });
});
