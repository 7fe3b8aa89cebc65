import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Run } from "@runhooks/contracts";
import {
  DEFAULT_PROJECT_NAME,
  PROJECT_NAMESPACE,
  applyRuleVersion,
  createRuleBook,
  judgeDecodedRun,
  projectId,
  projectOfRun,
  withSessionId,
} from "@runhooks/rules";
import { ruleVersion } from "./rule-version.js";

const TENANT = "5b0e7c1d-3f2a-4d6b-9e8c-1a2b3c4d5e6f";
const OTHER_TENANT = "6c1f8d2e-4a3b-4e7c-8f9d-2b3c4d5e6f70";
const GIVEN_SESSION = "7d2a9e3f-5b4c-4f8d-9a0e-3c4d5e6f7081";

/** RFC 4122 §4.3 by hand (SHA-1 of namespace bytes and name, version 5, variant 10): an independent reference. */
function referenceV5(name: string, namespace: string): string {
  const hash = createHash("sha1")
    .update(Buffer.from(namespace.replaceAll("-", ""), "hex"))
    .update(name, "utf8")
    .digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

describe("a project's id", () => {
  it.each<[string, string, string]>([
    ["the SDK's default project", TENANT, "default"],
    ["a named project", TENANT, "support-bot"],
    ["a name with a slash", TENANT, "team/support-bot"],
    ["a name with spaces and unicode", TENANT, "Support Bot – prod ✓"],
    ["another tenant", OTHER_TENANT, "support-bot"],
  ])("%s: UUIDv5 of <tenant>/<name> under the runhooks namespace", (_why, tenant, name) => {
    const id = projectId(tenant, name);
    expect(id).toBe(referenceV5(`${tenant}/${name}`, PROJECT_NAMESPACE));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // The same inputs, the same id (also once memoised).
    expect(projectId(tenant, name)).toBe(id);
  });

  it.each<[string, [string, string], [string, string], boolean]>([
    ["tenant ids are compared in any case", [TENANT, "p"], [TENANT.toUpperCase(), "p"], true],
    ["names are case-sensitive, as in LangSmith", [TENANT, "p"], [TENANT, "P"], false],
    ["one name in two tenants: two projects", [TENANT, "p"], [OTHER_TENANT, "p"], false],
    ["names differing in a trailing space", [TENANT, "p"], [TENANT, "p "], false],
  ])("%s", (_why, a, b, same) => {
    expect(projectId(...a) === projectId(...b)).toBe(same);
  });
});

describe("the project a run belongs to", () => {
  const base = { tenant_id: TENANT };
  it.each<[string, Record<string, unknown>, string | undefined]>([
    ["its session_name", { session_name: "support-bot" }, "support-bot"],
    ["no session_name: LangSmith's default project", {}, DEFAULT_PROJECT_NAME],
    ["a null session_name: the default project", { session_name: null }, DEFAULT_PROJECT_NAME],
    ["an empty session_name: the default project", { session_name: "" }, DEFAULT_PROJECT_NAME],
    ["a session_name that is not a string: the default project", { session_name: 42 }, DEFAULT_PROJECT_NAME],
    ["a session_id: left as the producer set it", { session_id: GIVEN_SESSION, session_name: "x" }, undefined],
    ["a null session_id counts as none", { session_id: null, session_name: "x" }, "x"],
  ])("%s", (_why, fields, name) => {
    const project = projectOfRun({ ...base, ...fields });
    expect(project).toEqual(name === undefined ? undefined : { name, id: projectId(TENANT, name) });
  });

  it("resolves session_id on a copy, never on the run given", () => {
    const run = { ...runOf(), session_name: "support-bot" } as Run;
    const resolved = withSessionId(run);
    expect(resolved.session_id).toBe(projectId(TENANT, "support-bot"));
    expect(run.session_id).toBeUndefined();
    const own = { ...runOf(), session_id: GIVEN_SESSION } as Run;
    expect(withSessionId(own)).toBe(own);
  });

  it("copies a run's own __proto__ field as data, never as the copy's prototype", () => {
    const parsed = JSON.parse(
      `{"__proto__": {"status": "error"}, "id": "i", "tenant_id": "${TENANT}", "session_name": "p"}`,
    ) as Run;
    const resolved = withSessionId(parsed);
    expect(Object.getPrototypeOf(resolved)).toBe(Object.prototype);
    expect(Object.keys(resolved)).toContain("__proto__");
    expect(resolved.status).toBeUndefined();
    expect(resolved.session_id).toBe(projectId(TENANT, "p"));
  });
});

function runOf(fields: Record<string, unknown> = {}): Run {
  return {
    id: "10000000-0000-4000-8000-000000000001",
    name: "ChatOpenAI",
    run_type: "llm",
    start_time: "2024-04-05T01:28:54.085Z",
    end_time: "2024-04-05T01:28:55.085Z",
    tenant_id: TENANT,
    ...fields,
  };
}

describe("judging runs written to Kafka with the project's name only", () => {
  const project = projectId(TENANT, "support-bot");
  const LLM = { "==": [{ var: "run_type" }, "llm"] };
  const book = createRuleBook();
  // Rule 1: scoped to the project. Rule 2: a filter reading session_id.
  for (const v of [
    ruleVersion(TENANT, 1, LLM, { session_id: project }),
    ruleVersion(TENANT, 2, { "==": [{ var: "session_id" }, project] }),
  ])
    applyRuleVersion(book, { ruleId: v.rule_id, rule: v, effectiveFrom: 0 });

  it.each<[string, Record<string, unknown>, string[]]>([
    ["session_name of the project: both rules", { session_name: "support-bot" }, ["1", "2"]],
    ["session_id of the project (as ingest writes it): both rules", { session_id: project }, ["1", "2"]],
    ["another project's name: neither", { session_name: "other" }, []],
    [
      "a session_id of another project wins over the name: neither",
      { session_id: GIVEN_SESSION, session_name: "support-bot" },
      [],
    ],
    ["no project at all (the default project): neither", {}, []],
  ])("%s", (_why, fields, rules) => {
    const run = runOf(fields);
    const judged = judgeDecodedRun(book, run, 1);
    const matched = judged.kind === "matched" ? judged.matches.map((m) => m.ruleId.slice(-1)) : [];
    expect(matched).toEqual(rules);
    // The run given is not changed: windows carry it as the producer wrote it.
    expect(run.session_id).toBe(fields["session_id"]);
  });

  it("matches a rule scoped to the default project for runs naming no project", () => {
    const scoped = createRuleBook();
    const v = ruleVersion(TENANT, 3, LLM, { session_id: projectId(TENANT, DEFAULT_PROJECT_NAME) });
    applyRuleVersion(scoped, { ruleId: v.rule_id, rule: v, effectiveFrom: 0 });
    expect(judgeDecodedRun(scoped, runOf(), 1).kind).toBe("matched");
    expect(judgeDecodedRun(scoped, runOf({ session_name: "support-bot" }), 1).kind).toBe("not_matched");
  });
});
