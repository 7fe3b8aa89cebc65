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
});
