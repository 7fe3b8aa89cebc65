import { randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import { sql } from "@runhooks/db";
import type { Ingest } from "@runhooks/ingest";
import { Client } from "langsmith";
import { RunTree } from "langsmith/run_trees";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIngestHarness, type IngestHarness } from "./harness.js";
import { completeRun } from "./run-fixture.js";
import { multipartBody, runParts } from "./multipart-body.js";
import { freePort } from "../../../test/support/net.js";

interface Answer {
  status: number;
  body: { error?: string; message?: string; issues?: { part: string; path: string; message: string }[] };
  headers: Headers;
}

describe("ingest endpoints", () => {
  let h: IngestHarness;
  let ingest: Ingest;
  let port: number;

  beforeAll(async () => {
    h = await createIngestHarness("endpoints");
    port = await freePort();
    ingest = await h.start({ port });
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
  const runsWithId = (id: unknown) => h.runs.filter((r) => r.run["id"] === id);

  it("GET /info advertises multipart, gzip and the batch limits the SDK sizes its batches by", async () => {
    const answer = await call("GET", "/info", undefined, {}, null);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      batch_ingest_config: { use_multipart_endpoint: true, size_limit: 100, size_limit_bytes: 20 * 1024 * 1024 },
      instance_flags: { gzip_body_enabled: true, zstd_compression_enabled: false },
    });
  });

  it("the SDK's JSON endpoints: POST /runs then PATCH /runs/:id reach the topic once, merged; /runs/batch too", async () => {
    const client = new Client({ apiUrl: ingest.url, apiKey: h.apiKey, autoBatchTracing: false });
    const id = randomUUID();
    const before = ingest.counters.runs_pending_completed;
    await client.createRun({
      id,
      name: "json-path",
      run_type: "chain",
      inputs: { q: 1 },
      start_time: Date.now(),
      project_name: "p",
      trace_id: id,
      dotted_order: `20260101T000000000000Z${id}`,
    });
    expect(runsWithId(id)).toEqual([]);
    await client.updateRun(id, { end_time: Date.now(), outputs: { a: 2 }, extra: { metadata: { done: true } } });
    await h.waitForRuns(() => runsWithId(id).length > 0);
    const [record] = runsWithId(id);
    expect(record!.key).toBe(id);
    expect(record!.run).toMatchObject({
      id,
      name: "json-path",
      inputs: { q: 1 },
      outputs: { a: 2 },
      status: "success",
      tenant_id: h.tenantId,
    });
    expect(ingest.counters.runs_pending_completed).toBe(before + 1);

    const other = randomUUID();
    const run = completeRun({ tenant_id: other, parent_run_id: randomUUID() });
    await client.batchIngestRuns({ runCreates: [run as never] });
    await h.waitForRuns(() => runsWithId(run["id"]).length > 0);
    // The tenant is the key's, whatever the body says; a child run is keyed by its trace.
    expect(runsWithId(run["id"])[0]!.run["tenant_id"]).toBe(h.tenantId);
    expect(runsWithId(run["id"])[0]!.key).toBe(run["trace_id"]);
    expect(runsWithId(id)).toHaveLength(1);
  });

  it("a run created in one multipart request and completed in another reaches the topic once, across an ingest restart", async () => {
    const client = new Client({ apiUrl: ingest.url, apiKey: h.apiKey });
    const tree = new RunTree({
      name: "long-chain",
      run_type: "chain",
      client,
      project_name: "restart",
      tracingEnabled: true,
      inputs: { question: "still there?" },
    });
    await tree.postRun();
    await client.awaitPendingTraceBatches();
    const pending = (await h.database.db.query(
      sql`SELECT created IS NOT NULL AS has_create, produced_at FROM ingest_pending WHERE run_id = ${tree.id}`,
    )) as { has_create: boolean; produced_at: Date | null }[];
    expect(pending).toEqual([{ has_create: true, produced_at: null }]);

    await ingest.stop();
    ingest = await h.start({ port });
    await tree.end({ answer: "yes" });
    await tree.patchRun();
    await client.awaitPendingTraceBatches();
    await h.waitForRuns(() => runsWithId(tree.id).length > 0);
    const runs = runsWithId(tree.id);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.run).toMatchObject({
      id: tree.id,
      trace_id: tree.trace_id,
      dotted_order: tree.dotted_order,
      inputs: { question: "still there?" },
      outputs: { answer: "yes" },
      status: "success",
    });
    expect(ingest.counters.runs_pending_completed).toBe(1);

    // A copy of the finished run (a client retrying) is recognised and dropped.
    const again = multipartBody(
      runParts("patch", {
        id: tree.id,
        end_time: Date.now(),
        trace_id: tree.trace_id,
        dotted_order: tree.dotted_order,
      }),
      { gzip: true },
    );
    expect((await call("POST", "/runs/multipart", again.body, again.headers)).status).toBe(202);
    expect(ingest.counters.runs_duplicate).toBe(1);
    expect(runsWithId(tree.id)).toHaveLength(1);
  });

  it("incomplete runs expire after the configured time, counted", async () => {
    const short = await h.start({ pendingTtlMs: 1000 });
    const run = completeRun({ end_time: undefined });
    const { body, headers } = multipartBody(runParts("post", run));
    expect((await call("POST", "/runs/multipart", body, headers, h.apiKey, short.url)).status).toBe(202);
    expect(short.counters.runs_pending_stored).toBe(1);
    await new Promise((r) => setTimeout(r, 1200));
    await short.expireNow();
    expect(short.counters.runs_pending_expired).toBeGreaterThanOrEqual(1);
    expect(await (await fetch(`${short.url}/metrics`)).text()).toMatch(
      /runhooks_ingest_runs_pending_expired_total [1-9]/,
    );
    const left = (await h.database.db.query(
      sql`SELECT count(*)::int AS n FROM ingest_pending WHERE run_id = ${run["id"] as string}`,
    )) as { n: number }[];
    expect(left[0]!.n).toBe(0);
    // Its end arriving later is held as an update without a create: never produced half.
    const produced = short.counters.runs_produced;
    const patch = multipartBody(runParts("patch", { id: run["id"], end_time: Date.now() }));
    expect((await call("POST", "/runs/multipart", patch.body, patch.headers, h.apiKey, short.url)).status).toBe(202);
    expect(short.counters.runs_produced).toBe(produced);
    await short.stop();
  });

  it("answers 401 to a missing or wrong key on every run route, and accepts nothing", async () => {
    const run = completeRun();
    const mp = multipartBody(runParts("post", run));
    const routes: [string, string, Buffer | string, Record<string, string>][] = [
      ["POST", "/runs", JSON.stringify(run), {}],
      ["PATCH", `/runs/${String(run["id"])}`, JSON.stringify({ end_time: Date.now() }), {}],
      ["POST", "/runs/batch", JSON.stringify({ post: [run] }), {}],
      ["POST", "/runs/multipart", mp.body, mp.headers],
    ];
    for (const [method, path, body, headers] of routes) {
      for (const key of [null, "rh_wrong", `${h.apiKey}x`]) {
        const answer = await call(method, path, body, headers, key);
        expect(answer.status, `${method} ${path} with key ${key === null ? "(none)" : "(wrong)"}`).toBe(401);
        expect(answer.body.error).toBe("unauthorized");
      }
    }
    // The tenant's key itself is never echoed.
    const answer = await call("POST", "/runs", JSON.stringify(run), {}, "rh_wrong");
    expect(JSON.stringify(answer.body)).not.toContain("rh_wrong");
    expect(runsWithId(run["id"])).toEqual([]);
  });

  it("answers 400 naming the part and the field for malformed input on every route", async () => {
    const run = completeRun();
    const id = String(run["id"]);
    const mp = (parts: Parameters<typeof multipartBody>[0]) => multipartBody(parts, { gzip: true });
    const cases: {
      name: string;
      method: string;
      path: string;
      body: Buffer | string;
      headers?: Record<string, string>;
      part: string;
      field: string;
    }[] = [
      { name: "POST /runs: not JSON", method: "POST", path: "/runs", body: "{nope", part: "(body)", field: "(root)" },
      {
        name: "POST /runs: no start_time",
        method: "POST",
        path: "/runs",
        body: JSON.stringify({ ...run, start_time: undefined }),
        part: "(body)",
        field: "start_time",
      },
      {
        name: "POST /runs: bad id",
        method: "POST",
        path: "/runs",
        body: JSON.stringify({ ...run, id: "x" }),
        part: "(body)",
        field: "id",
      },
      {
        name: "PATCH: id in URL",
        method: "PATCH",
        path: "/runs/not-a-uuid",
        body: JSON.stringify({ end_time: Date.now() }),
        part: "(url)",
        field: "id",
      },
      {
        name: "PATCH: bad end_time",
        method: "PATCH",
        path: `/runs/${id}`,
        body: JSON.stringify({ end_time: "yesterday" }),
        part: "(body)",
        field: "end_time",
      },
      {
        name: "PATCH: id mismatch",
        method: "PATCH",
        path: `/runs/${id}`,
        body: JSON.stringify({ id: randomUUID() }),
        part: "(body)",
        field: "id",
      },
      {
        name: "batch: post not a list",
        method: "POST",
        path: "/runs/batch",
        body: JSON.stringify({ post: run }),
        part: "post",
        field: "(root)",
      },
      {
        name: "batch: second run without run_type",
        method: "POST",
        path: "/runs/batch",
        body: JSON.stringify({ post: [completeRun(), { ...completeRun(), run_type: undefined }] }),
        part: "post[1]",
        field: "run_type",
      },
      {
        name: "batch: patch without id",
        method: "POST",
        path: "/runs/batch",
        body: JSON.stringify({ patch: [{ end_time: Date.now() }] }),
        part: "patch[0]",
        field: "id",
      },
      {
        name: "batch: tokens not a count",
        method: "POST",
        path: "/runs/batch",
        body: JSON.stringify({ post: [{ ...run, total_tokens: -1 }] }),
        part: "post[0]",
        field: "total_tokens",
      },
      {
        name: "multipart: inputs part not JSON",
        method: "POST",
        path: "/runs/multipart",
        ...mp([...runParts("post", { ...run, inputs: undefined }), { name: `post.${id}.inputs`, data: "{oops" }]),
        part: `post.${id}.inputs`,
        field: "inputs",
      },
      {
        name: "multipart: run part without name",
        method: "POST",
        path: "/runs/multipart",
        ...mp(runParts("post", { ...run, name: "" })),
        part: `post.${id}`,
        field: "name",
      },
      {
        name: "multipart: field part without its run",
        method: "POST",
        path: "/runs/multipart",
        ...mp([{ name: `patch.${id}.outputs`, data: "{}" }]),
        part: `patch.${id}.outputs`,
        field: "(part)",
      },
      {
        name: "multipart: unknown part",
        method: "POST",
        path: "/runs/multipart",
        ...mp([{ name: `upsert.${id}`, data: "{}" }]),
        part: `upsert.${id}`,
        field: "(name)",
      },
      {
        name: "multipart: unknown field part",
        method: "POST",
        path: "/runs/multipart",
        ...mp([...runParts("post", run), { name: `post.${id}.secrets`, data: "{}" }]),
        part: `post.${id}.secrets`,
        field: "(name)",
      },
      {
        name: "multipart: no boundary",
        method: "POST",
        path: "/runs/multipart",
        body: "x",
        headers: { "content-type": "multipart/form-data" },
        part: "(body)",
        field: "content-type",
      },
      {
        name: "multipart: truncated",
        method: "POST",
        path: "/runs/multipart",
        body: Buffer.from(`--b\r\nContent-Disposition: form-data; name="post.${id}"\r\n\r\n{}`),
        headers: { "content-type": "multipart/form-data; boundary=b" },
        part: "(body)",
        field: "(multipart)",
      },
    ];
    for (const c of cases) {
      const answer = await call(c.method, c.path, c.body, c.headers ?? {});
      expect(answer.status, `${c.name}: ${JSON.stringify(answer.body)}`).toBe(400);
      expect(answer.body.issues, c.name).toContainEqual(expect.objectContaining({ part: c.part, path: c.field }));
      expect(answer.body.message, c.name).toContain(c.part);
    }
    expect(
      (
        await call("POST", "/runs/multipart", Buffer.from("x"), {
          "content-type": "multipart/form-data; boundary=b",
          "content-encoding": "gzip",
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await call("POST", "/runs/multipart", Buffer.from("x"), {
          "content-type": "multipart/form-data; boundary=b",
          "content-encoding": "zstd",
        })
      ).status,
    ).toBe(415);
    expect(runsWithId(id)).toEqual([]);
  });

  it("answers 413 to bodies over the advertised limit (as sent or inflated) and to runs too large for Kafka", async () => {
    const small = await h.start({ maxBodyBytes: 64 * 1024, maxRunBytes: 16 * 1024 });
    const info = (await (await fetch(`${small.url}/info`)).json()) as {
      batch_ingest_config: { size_limit_bytes: number };
    };
    expect(info.batch_ingest_config.size_limit_bytes).toBe(64 * 1024);
    const big = completeRun({ inputs: { blob: "x".repeat(70 * 1024) } });
    const plain = multipartBody(runParts("post", big));
    const tooBig = await call("POST", "/runs/multipart", plain.body, plain.headers, h.apiKey, small.url);
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error).toBe("body_too_large");
    expect((await call("POST", "/runs/batch", JSON.stringify({ post: [big] }), {}, h.apiKey, small.url)).status).toBe(
      413,
    );
    // Small once gzipped, but inflating past twice the limit: refused while inflating.
    const bomb = gzipSync(Buffer.alloc(256 * 1024, 32));
    const inflated = await call(
      "POST",
      "/runs/batch",
      bomb,
      { "content-type": "application/json", "content-encoding": "gzip" },
      h.apiKey,
      small.url,
    );
    expect(inflated.status).toBe(413);
    expect(inflated.body.message).toContain("decompressed");
    // Within the body limit, but one run over the per-run limit: named, nothing accepted.
    const fat = completeRun({ inputs: { blob: "y".repeat(20 * 1024) } });
    const ok = completeRun();
    const mixed = multipartBody([...runParts("post", ok), ...runParts("post", fat)], { gzip: true });
    const runTooLarge = await call("POST", "/runs/multipart", mixed.body, mixed.headers, h.apiKey, small.url);
    expect(runTooLarge.status).toBe(413);
    expect(runTooLarge.body.issues).toContainEqual(expect.objectContaining({ part: `post.${String(fat["id"])}` }));
    expect(small.counters.runs_produced).toBe(0);
    await small.stop();
  });

  it("multipart: the tenant is the key's, attachments and feedback are accepted and counted, not kept", async () => {
    const run = completeRun({ tenant_id: randomUUID() });
    const { body, headers } = multipartBody(
      [
        ...runParts("post", run),
        {
          name: `attachment.${String(run["id"])}.image`,
          data: Buffer.from([1, 2, 3]),
          contentType: "image/png; length=3",
        },
        { name: `feedback.${randomUUID()}`, data: JSON.stringify({ score: 1 }) },
      ],
      { gzip: true },
    );
    const attachments = ingest.counters.attachments_ignored;
    expect((await call("POST", "/runs/multipart", body, headers)).status).toBe(202);
    await h.waitForRuns(() => runsWithId(run["id"]).length > 0);
    expect(runsWithId(run["id"])[0]!.run).toMatchObject({
      tenant_id: h.tenantId,
      inputs: { q: "hi" },
      outputs: { a: "ho" },
      extra: { metadata: { k: "v" } },
    });
    expect(ingest.counters.attachments_ignored).toBe(attachments + 1);
  });
});
