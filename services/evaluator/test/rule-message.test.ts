import { describe, expect, it } from "vitest";
import type { RuleVersion } from "@runhooks/contracts";
import { decodeRuleMessage, type RuleMessage } from "../src/rule-message.js";
import { KIND_HEADER, RULES_TICK_KEY, TICK, tickValue } from "../src/headers.js";

const RULE_ID = "6ab80f10-d79c-4fa2-b441-922ed6feb630";
const version: RuleVersion = {
  schema_version: 1,
  kind: "rule",
  rule_id: RULE_ID,
  version: 2,
  tenant_id: "2ebda79f-2c6b-4b5c-9d55-1c1f43a2ad11",
  session_id: null,
  enabled: true,
  filter: { "==": [{ var: "run_type" }, "llm"] },
  sampling_rate: 1,
  window: { seconds: 5, max_runs: 100 },
};
const text = (value: unknown) => Buffer.from(JSON.stringify(value));

describe("decodeRuleMessage", () => {
  const cases: readonly {
    name: string;
    key: string | null;
    value: Buffer | null;
    tick?: true;
    expected: RuleMessage;
  }[] = [
    {
      name: "a tick by its header",
      key: "x",
      value: Buffer.from(tickValue("i")),
      tick: true,
      expected: { kind: "tick" },
    },
    { name: "a tick by its key", key: RULES_TICK_KEY, value: Buffer.from("{}"), expected: { kind: "tick" } },
    {
      name: "a tombstone (null)",
      key: RULE_ID,
      value: null,
      expected: { kind: "version", message: { ruleId: RULE_ID, rule: null, effectiveFrom: 7 } },
    },
    {
      name: "a tombstone (empty)",
      key: RULE_ID,
      value: Buffer.alloc(0),
      expected: { kind: "version", message: { ruleId: RULE_ID, rule: null, effectiveFrom: 7 } },
    },
    {
      name: "a version",
      key: RULE_ID,
      value: text(version),
      expected: { kind: "version", message: { ruleId: RULE_ID, rule: version, effectiveFrom: 7 } },
    },
    {
      name: "a version only the schema reads (it drops a __proto__ key)",
      key: RULE_ID,
      value: Buffer.from(JSON.stringify(version).replace('"filter":{', '"filter":{"__proto__":1,')),
      expected: { kind: "version", message: { ruleId: RULE_ID, rule: version, effectiveFrom: 7 } },
    },
    {
      name: "not JSON",
      key: RULE_ID,
      value: Buffer.from("{nope"),
      expected: {
        kind: "unreadable",
        ruleId: RULE_ID,
        error: "(root): Invalid input: expected object, received undefined",
      },
    },
    {
      name: "not a rule version",
      key: RULE_ID,
      value: text({ ...version, version: 0 }),
      expected: { kind: "unreadable", ruleId: RULE_ID, error: "version: Too small: expected number to be >0" },
    },
  ];

  it.each(cases)("reads $name", ({ key, value, tick, expected }) => {
    const headers = tick ? { [KIND_HEADER]: Buffer.from(TICK) } : undefined;
    expect(decodeRuleMessage(key === null ? null : Buffer.from(key), value, headers, 7)).toEqual(expected);
  });
});
