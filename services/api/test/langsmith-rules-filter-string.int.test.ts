/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call --
   the JSON answers of the API under test; the assertions are what check their shape. */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "./support/api-harness.js";

/**
 * A rule written as LangSmith users write it: the filter in LangSmith's query language. It needs the
 * rule validation to take LangSmith filter strings (`@runhooks/rules`).
 */
const FILTER = 'and(eq(run_type, "llm"), eq(status, "error"))';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi("langsmith-filter-string");
});
afterAll(async () => {
  await api?.close();
});

describe("LangSmith's rules API with a LangSmith filter string", () => {
  it("stores the filter as written, shows it back, and the rule matches only what it says", async () => {
    const t = await api.newTenant("filter string");
    const session = randomUUID();
    const created = await api.call("POST", "/api/v1/runs/rules", {
      key: t.key,
      body: { display_name: "LLM errors", session_id: session, sampling_rate: 1, filter: FILTER },
    });
    expect(created.status).toBe(200);
    expect(created.body.filter).toBe(FILTER);
    const listed = await api.call("GET", `/api/v1/runs/rules?session_id=${session}`, { key: t.key });
    expect(listed.body.map((r: { filter: unknown }) => r.filter)).toEqual([FILTER]);

    // The stored rule, tried on runs: an errored LLM run matches; a tool run and a successful one do not.
    const rule = (await api.call("GET", `/rules/${created.body.id}`, { key: t.key })).body;
    const run = (patch: Record<string, unknown>) => ({
      id: randomUUID(),
      name: "ChatOpenAI",
      run_type: "llm",
      status: "error",
      error: "RateLimitError",
      start_time: "2024-04-05T01:28:50.000000",
      end_time: "2024-04-05T01:28:51.250000",
      session_id: session,
      ...patch,
    });
    const runs = [run({}), run({ run_type: "tool" }), run({ status: "success", error: null })];
    const tried = await api.call("POST", "/rules/test", { key: t.key, body: { rule, runs } });
    expect(tried.status).toBe(200);
    expect(tried.body.results.map((r: { matched: boolean }) => r.matched)).toEqual([true, false, false]);
  });

  it("takes trace_filter and tree_filter strings, shows their trees, and removes one sent null", async () => {
    const t = await api.newTenant("trace filter strings");
    const created = await api.call("POST", "/api/v1/runs/rules", {
      key: t.key,
      body: {
        display_name: "LLM errors in vip traces",
        sampling_rate: 1,
        filter: FILTER,
        trace_filter: 'has(tags, "vip")',
        tree_filter: 'eq(run_type, "tool")',
      },
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ trace_filter: 'has(tags, "vip")', tree_filter: 'eq(run_type, "tool")' });
    const native = (await api.call("GET", `/rules/${created.body.id}`, { key: t.key })).body;
    expect(native.trace_filter_logic).toEqual({ in: ["vip", { var: "tags" }] });
    expect(native.tree_filter_logic).toEqual({ "==": [{ var: "run_type" }, "tool"] });

    const bad = await api.call("PATCH", `/api/v1/runs/rules/${created.body.id}`, {
      key: t.key,
      body: { trace_filter: 'has(tags, "vip"' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].path).toBe("trace_filter");
    const removed = await api.call("PATCH", `/api/v1/runs/rules/${created.body.id}`, {
      key: t.key,
      body: { tree_filter: null },
    });
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ trace_filter: 'has(tags, "vip")', tree_filter: null });
  });
});
