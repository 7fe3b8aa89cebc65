import { describe, expect, it } from "vitest";
import { RuleVersion, type Rule } from "@runhooks/contracts";
import { canonicalJson, toRuleVersion } from "@runhooks/db";

describe("canonical JSON: equal rules compare equal whatever their key order", () => {
  it.each<[unknown, unknown, boolean]>([
    [{ a: 1, b: 2 }, { b: 2, a: 1 }, true],
    [{ f: { and: [{ x: 1, y: 2 }] } }, { f: { and: [{ y: 2, x: 1 }] } }, true],
    [[1, 2], [2, 1], false], // arrays keep their order
    [{ a: null }, {}, false],
    [{ a: 1 }, { a: "1" }, false],
  ])("%o vs %o → equal: %s", (a, b, equal) => {
    expect(canonicalJson(a) === canonicalJson(b)).toBe(equal);
  });

  it("sorts keys at every depth", () => {
    expect(canonicalJson({ b: { d: 1, c: [{ f: 1, e: 2 }] }, a: 0 })).toBe('{"a":0,"b":{"c":[{"e":2,"f":1}],"d":1}}');
  });
});

describe("a rule's matching part, as the rules topic carries it", () => {
  const rule: Rule = {
    id: "d75d7417-0c57-4655-88fe-1db3cda3a47a",
    display_name: "errors",
    tenant_id: "2ebda79f-2946-4491-a9ad-d642f49e0815",
    enabled: true,
    filter: { "==": [{ var: "status" }, "error"] },
    sampling_rate: 0.5,
    window: { seconds: 5, max_runs: 100 },
    webhooks: [{ url: "https://example.com/hook?token=secret", headers: {} }],
  };

  it.each<[string, Partial<Rule>, Partial<RuleVersion>]>([
    ["no session scope → null", {}, { session_id: null }],
    ["a null session scope → null", { session_id: null }, { session_id: null }],
    [
      "a session scope kept",
      { session_id: "3f1d5d0c-9e01-4f00-8a77-9b1f1a8c2a8e" },
      { session_id: "3f1d5d0c-9e01-4f00-8a77-9b1f1a8c2a8e" },
    ],
    ["disabled kept", { enabled: false }, { enabled: false }],
  ])("%s", (_name, change, expected) => {
    const version = toRuleVersion({ ...rule, ...change }, 7);
    expect(version).toMatchObject({
      schema_version: 1,
      kind: "rule",
      rule_id: rule.id,
      version: 7,
      tenant_id: rule.tenant_id,
      ...expected,
    });
    expect(RuleVersion.safeParse(version).success).toBe(true);
    // No webhook, URL or secret ever enters Kafka.
    expect(JSON.stringify(version)).not.toContain("example.com");
  });
});
