import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { RuleVersion } from "@runhooks/contracts";
import { applyRuleVersion, createRuleBook } from "@runhooks/rules";
import { classifyMessage, foldInputOf, type MessageClass } from "../src/message-class.js";
import { KIND_HEADER, TICK, tickValue } from "../src/headers.js";

const TENANT = "7d3c1a52-64f1-4c9e-8a37-0c2b5a7e9f10";
const limits = { maxBytes: 4096, maxDepth: 16 };

const rule: RuleVersion = {
  schema_version: 1,
  kind: "rule",
  rule_id: randomUUID(),
  version: 1,
  tenant_id: TENANT,
  session_id: null,
  enabled: true,
  sampling_rate: 1,
  filter: { "==": [{ var: "run_type" }, "llm"] },
  window: { seconds: 5, max_runs: 100 },
};
const book = createRuleBook();
applyRuleVersion(book, { ruleId: rule.rule_id, rule, effectiveFrom: 0 });

const run = (patch: Record<string, unknown> = {}) =>
  Buffer.from(
    JSON.stringify({
      id: "0f6d2b7e-1c3a-4e5f-9a8b-7c6d5e4f3a2b",
      name: "n",
      run_type: "llm",
      start_time: "2024-04-05T01:28:54Z",
      end_time: "2024-04-05T01:28:55Z",
      tenant_id: TENANT,
      ...patch,
    }),
  );
const tickHeaders = { [KIND_HEADER]: TICK };

/** The fields a row checks: the kind, and what the kind carries. */
function summary(c: MessageClass): unknown {
  switch (c.kind) {
    case "tick":
      return ["tick"];
    case "dead_letter":
      return ["dead_letter", c.reason];
    case "not_ended":
      return ["not_ended", c.runId];
    case "not_matched":
      return ["not_matched", c.ruleErrors.length];
    case "matched":
      return ["matched", c.matches.map((m) => m.ruleId)];
  }
}

describe("classifying a runs-topic message", () => {
  it.each<[string, { headers?: Record<string, string | Buffer | (string | Buffer)[]>; value: Buffer | null }, unknown]>(
    [
      [
        "a tick (its header, whatever its value)",
        { headers: tickHeaders, value: Buffer.from(tickValue("instance-1")) },
        ["tick"],
      ],
      [
        "a tick whose header is a Buffer, as kafkajs reads it",
        { headers: { [KIND_HEADER]: Buffer.from(TICK) }, value: null },
        ["tick"],
      ],
      [
        "a tick header among several values: the first decides",
        { headers: { [KIND_HEADER]: [TICK, "run"] }, value: null },
        ["tick"],
      ],
      [
        "another kind header is not a tick",
        { headers: { [KIND_HEADER]: "other" }, value: run() },
        ["matched", [rule.rule_id]],
      ],
      ["no value", { value: null }, ["dead_letter", "schema_invalid"]],
      ["not JSON", { value: Buffer.from("{nope") }, ["dead_letter", "invalid_json"]],
      ["over the size limit", { value: run({ inputs: { text: "x".repeat(5000) } }) }, ["dead_letter", "oversized"]],
      ["not a run", { value: Buffer.from('{"id":1}') }, ["dead_letter", "schema_invalid"]],
      [
        "a run without an end",
        { value: run({ end_time: null }) },
        ["not_ended", "0f6d2b7e-1c3a-4e5f-9a8b-7c6d5e4f3a2b"],
      ],
      ["an ended run no rule matches", { value: run({ run_type: "chain" }) }, ["not_matched", 0]],
      ["an ended run of another tenant", { value: run({ tenant_id: randomUUID() }) }, ["not_matched", 0]],
      ["an ended run the rule matches", { value: run() }, ["matched", [rule.rule_id]]],
    ],
  )("%s", (_why, message, expected) => {
    expect(summary(classifyMessage(message, limits, book, 10))).toEqual(expected);
  });

  it("judges by the rule versions in force at the time it is given", () => {
    expect(summary(classifyMessage({ value: run() }, limits, book, -1))).toEqual(["not_matched", 0]);
  });
});

describe("what the fold makes of a classified message", () => {
  it("folds a matched run into its windows, with a copy of its bytes", () => {
    const value = run();
    const c = classifyMessage({ value }, limits, book, 10);
    const input = foldInputOf(c, 7, 1000, value);
    expect(input).toMatchObject({
      kind: "run",
      offset: 7,
      time: 1000,
      run: { runId: "0f6d2b7e-1c3a-4e5f-9a8b-7c6d5e4f3a2b" },
      matches: [{ ruleId: rule.rule_id }],
    });
    if (input.kind !== "run") return;
    expect(Buffer.from(input.run.json).equals(value)).toBe(true);
    // Its own bytes: the message's value is a slice of the whole fetch, which it must not keep alive.
    value[0] = 0x20;
    expect(input.run.json[0]).toBe("{".charCodeAt(0));
  });

  const TRACE = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
  it("hands a run a trace-aware rule spoke of to its trace, copying its bytes only for a candidate", () => {
    const traced = createRuleBook();
    const tool = { ...rule, rule_id: randomUUID(), filter: { "==": [{ var: "run_type" }, "llm"] }, tree_filter: true };
    applyRuleVersion(traced, { ruleId: tool.rule_id, rule: tool, effectiveFrom: 0 });
    const candidate = run({ trace_id: TRACE });
    const input = foldInputOf(classifyMessage({ value: candidate }, limits, traced, 10), 4, 900, candidate);
    expect(input).toMatchObject({
      kind: "run",
      matches: [],
      trace: { key: `${TENANT}/${TRACE}`, verdicts: [{ candidate: true, tree: true, root: undefined }] },
    });
    if (input.kind === "run") expect(Buffer.from(input.run.json).equals(candidate)).toBe(true);
    // Only a fact for its trace (the tree filter holds, the filter does not): nothing to copy.
    const fact = run({ run_type: "chain", trace_id: TRACE });
    const factInput = foldInputOf(classifyMessage({ value: fact }, limits, traced, 10), 5, 900, fact);
    expect(factInput).toMatchObject({ kind: "run", trace: { verdicts: [{ candidate: false, tree: true }] } });
    if (factInput.kind === "run") expect(factInput.run.json.length).toBe(0);
  });

  it.each<[string, Buffer | null, Record<string, string>]>([
    ["a tick", Buffer.from(tickValue("i")), tickHeaders],
    ["a dead letter", Buffer.from("{nope"), {}],
    ["a run without an end", run({ end_time: null }), {}],
    ["a run no rule matches", run({ run_type: "chain" }), {}],
  ])("only moves time for %s", (_why, value, headers) => {
    const c = classifyMessage({ headers, value }, limits, book, 10);
    expect(foldInputOf(c, 3, 500, value)).toEqual({ kind: "time", offset: 3, time: 500 });
  });
});
