import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseRuleDocument } from "../src/rules/rule-input.js";

const tenantId = randomUUID();
const base = { display_name: "r", filter: true };

function issues(input: unknown, pathId?: string) {
  const result = parseRuleDocument(input, { tenantId, pathId });
  if (result.ok) throw new Error("expected a refusal");
  return result.issues.map((i) => i.path);
}

describe("parseRuleDocument", () => {
  it("fills in a generated id, the caller's tenant and the contract's defaults", () => {
    const result = parseRuleDocument(base, { tenantId });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.value.rule).toMatchObject({
      tenant_id: tenantId,
      enabled: true,
      sampling_rate: 1,
      window: { seconds: 5, max_runs: 100 },
      webhooks: [],
    });
    expect(result.value.rule.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.value.version).toBeUndefined();
  });

  it("takes the id from the URL, a version for concurrency, and ignores read-only fields", () => {
    const id = randomUUID();
    const result = parseRuleDocument(
      { ...base, version: 4, created_at: "x", updated_at: "y", effective_from: null },
      { tenantId, pathId: id },
    );
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.value.rule.id).toBe(id);
    expect(result.value.version).toBe(4);
  });

  it("accepts whsec_*** (keep the stored secret) but no other malformed signing secret", () => {
    const ok = parseRuleDocument(
      { ...base, webhooks: [{ url: "https://e.example/h", signing_secret: "whsec_***" }] },
      { tenantId },
    );
    expect(ok.ok).toBe(true);
    expect(issues({ ...base, webhooks: [{ url: "https://e.example/h", signing_secret: "whsec_**" }] })).toEqual([
      "webhooks[0].signing_secret",
    ]);
  });

  it("names each problem's path, the filter's with its own precise paths", () => {
    expect(issues({ ...base, filter: { and: [{ "==": [{ var: "prototype" }, 1] }] } })).toEqual([
      "filter.and[0].==[0].var",
    ]);
    expect(issues({ display_name: "r" })).toEqual(["filter"]);
    expect(issues({ ...base, tenant_id: randomUUID() })).toEqual(["tenant_id"]);
    expect(issues({ ...base, id: randomUUID() }, randomUUID())).toEqual(["id"]);
    expect(issues({ ...base, extra_field: 1, window: { seconds: 5, max_runs: 1, jitter: 2 } }).sort()).toEqual([
      "extra_field",
      "window.jitter",
    ]);
    expect(issues([base])).toEqual(["(root)"]);
  });

  it("checks trace_filter and tree_filter as the filter is checked, naming their paths", () => {
    const vip = { in: ["vip", { var: "tags" }] };
    const ok = parseRuleDocument(
      { ...base, trace_filter: vip, tree_filter: true, trace_horizon_seconds: 600 },
      { tenantId },
    );
    if (!ok.ok) throw new Error(JSON.stringify(ok.issues));
    expect(ok.value.rule).toMatchObject({ trace_filter: vip, tree_filter: true, trace_horizon_seconds: 600 });
    expect(issues({ ...base, trace_filter: { and: [{ "==": [{ var: "__proto__" }, 1] }] } })).toEqual([
      "trace_filter.and[0].==[0].var",
    ]);
    expect(issues({ ...base, tree_filter: { log: 1 } })).toEqual(["tree_filter.log"]);
    const bomb = { reduce: [{ var: "tags" }, { merge: [{ var: "accumulator" }, { var: "accumulator" }] }, [1]] };
    const refused = parseRuleDocument({ ...base, tree_filter: bomb }, { tenantId });
    expect(refused.ok ? [] : refused.issues).toEqual([
      {
        path: expect.stringMatching(/^tree_filter/) as string,
        message: expect.stringContaining("exponential") as string,
      },
    ]);
  });

  it("takes a trace horizon only with a trace or tree filter, and null as removing a trace field", () => {
    expect(issues({ ...base, trace_horizon_seconds: 60 })).toEqual(["trace_horizon_seconds"]);
    expect(issues({ ...base, tree_filter: true, trace_horizon_seconds: 0 })).toEqual(["trace_horizon_seconds"]);
    const removed = parseRuleDocument(
      { ...base, trace_filter: null, tree_filter: null, trace_horizon_seconds: null },
      { tenantId },
    );
    if (!removed.ok) throw new Error(JSON.stringify(removed.issues));
    expect(removed.value.rule).not.toHaveProperty("trace_filter");
    expect(removed.value.rule).not.toHaveProperty("tree_filter");
    expect(removed.value.rule).not.toHaveProperty("trace_horizon_seconds");
  });
});
