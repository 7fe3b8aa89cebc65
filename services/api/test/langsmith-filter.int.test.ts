/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment --
   the JSON answers of the API under test; the assertions are what check their shape. */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "./support/api-harness.js";

const PASTED = 'and(eq(run_type, "llm"), eq(status, "error"))';

function ruleBody(filter: unknown): Record<string, unknown> {
  return { display_name: "from LangSmith", filter, window: { seconds: 5, max_runs: 100 } };
}

let api: TestApi;
let tenant: { tenantId: string; key: string };

beforeAll(async () => {
  api = await startTestApi("api-langsmith");
  tenant = await api.newTenant("langsmith filters");
});
afterAll(async () => {
  await api?.close();
});

describe("a rule's filter in LangSmith's language", () => {
  it("takes a pasted LangSmith string, keeps it as written and shows the tree it compiles to", async () => {
    const created = await api.call("POST", "/rules", { key: tenant.key, body: ruleBody(PASTED) });
    expect(created.status).toBe(201);
    const rule = created.body.rule;
    expect(rule.filter).toBe(PASTED);
    expect(rule.filter_logic).toEqual({
      and: [{ "==": [{ var: "run_type" }, "llm"] }, { "==": [{ var: "status" }, "error"] }],
    });
    const read = await api.call("GET", `/rules/${rule.id}`, { key: tenant.key });
    expect(read.body).toEqual(rule);
    // Sent back as read (filter_logic included), it changes nothing.
    const back = await api.call("PUT", `/rules/${rule.id}`, { key: tenant.key, body: read.body });
    expect(back).toMatchObject({ status: 200, body: { result: "unchanged", rule: { version: 1 } } });
    const patched = await api.call("PATCH", `/rules/${rule.id}`, {
      key: tenant.key,
      body: { filter: 'gt(latency, "5s")' },
    });
    expect(patched).toMatchObject({
      status: 200,
      body: { rule: { version: 2, filter_logic: { ">": [{ var: "latency" }, 5] } } },
    });
    const json = await api.call("PATCH", `/rules/${rule.id}`, { key: tenant.key, body: { filter: true } });
    expect(json.status).toBe(200);
    expect(json.body.rule).not.toHaveProperty("filter_logic");
  });

  it.each<[string, unknown, string]>([
    [
      "a malformed string",
      'and(eq(run_type, "llm") eq(status, "error"))',
      'line 1, column 25 (character 24): expected "," or ")"',
    ],
    [
      "an unknown field",
      'eq(model, "gpt-4o")',
      'line 1, column 4 (character 3): unknown field "model"; the fields are id, name',
    ],
    ["feedback", 'and(eq(feedback_key, "user_score"), eq(feedback_score, 1))', "feedback is not supported yet"],
    ["a bare number", 1, "is a number, which is not a filter: write a JSON-logic operation"],
    ["a bare array", ["llm"], "is an array, which is not a filter"],
  ])("answers 400 to %s, naming the position and what to write", async (_name, filter, message) => {
    const answer = await api.call("POST", "/rules", { key: tenant.key, body: ruleBody(filter) });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe("invalid_rule");
    expect(answer.body.issues).toEqual([{ path: "filter", message: expect.stringContaining(message) as string }]);
    expect(answer.body.message).toContain(message);
  });

  it("dry-runs a LangSmith string, naming each call as written and what it read", async () => {
    const run = (status: string) => ({
      id: randomUUID(),
      name: "ChatOpenAI",
      run_type: "llm",
      status,
      start_time: "2024-04-05T01:28:50Z",
      end_time: "2024-04-05T01:28:51Z",
    });
    const [failed, fine] = [run("error"), run("success")];
    const answer = await api.call("POST", "/rules/test", {
      key: tenant.key,
      body: { rule: ruleBody(`${PASTED.slice(0, -1)}, lt(total_tokens, 100))`), runs: [failed, fine] },
    });
    expect(answer.status).toBe(200);
    const [first, second] = answer.body.results as {
      matched: boolean;
      reasons: string[];
      checks: { part: string; explanation?: { source: string; parts: { source: string; result: boolean }[] } }[];
    }[];
    expect(first!.reasons).toEqual(["filter: lt(total_tokens, 100) is false with total_tokens = null"]);
    expect(second!.reasons).toEqual([
      'filter: eq(status, "error") is false with status = "success"; lt(total_tokens, 100) is false with total_tokens = null',
    ]);
    const explanation = second!.checks.find((c) => c.part === "filter")!.explanation!;
    expect(explanation.parts.map((p) => [p.source, p.result])).toEqual([
      ['eq(run_type, "llm")', true],
      ['eq(status, "error")', false],
      ["lt(total_tokens, 100)", false],
    ]);
  });
});
