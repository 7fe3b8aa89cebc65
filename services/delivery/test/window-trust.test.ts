import { describe, expect, it } from "vitest";
import { judgePart } from "../src/window-trust.js";
import { DEAD_LETTER_ERROR_CHARS, deadLetter, deadLetterSends, screenInputs } from "../src/window-dead-letter.js";
import { WindowDeadLetter, WindowPart } from "@runhooks/contracts";
import { decodeBatch, type PartInput, type WatermarkInput } from "../src/window-batch.js";

const RULE = "0b5f8d56-3b8e-4c41-9d47-0c6c1a3d7f10";
const OWNER = "7d1b7c4e-1111-4c41-9d47-0c6c1a3d7f10";
const OTHER = "7d1b7c4e-2222-4c41-9d47-0c6c1a3d7f10";

describe("judgePart", () => {
  it.each([
    ["the owner's existing version", { tenantId: OWNER, ruleVersion: 2 }, { tenantId: OWNER, latest: 3 }, "ok"],
    ["the owner's latest version", { tenantId: OWNER, ruleVersion: 3 }, { tenantId: OWNER, latest: 3 }, "ok"],
    [
      "another tenant naming the rule",
      { tenantId: OTHER, ruleVersion: 1 },
      { tenantId: OWNER, latest: 3 },
      "tenant_mismatch",
    ],
    [
      "a version past the latest",
      { tenantId: OWNER, ruleVersion: 4 },
      { tenantId: OWNER, latest: 3 },
      "unknown_rule_version",
    ],
    ["a rule that does not exist", { tenantId: OWNER, ruleVersion: 1 }, undefined, "unknown_rule"],
    [
      "another tenant and no such version",
      { tenantId: OTHER, ruleVersion: 9 },
      { tenantId: OWNER, latest: 3 },
      "tenant_mismatch",
    ],
  ] as const)("%s", (_, claim, owner, expected) => {
    const verdict = judgePart({ ruleId: RULE, ...claim }, owner);
    expect(verdict.ok ? "ok" : verdict.reason).toBe(expected);
  });

  it("does not tell a forger who owns the rule", () => {
    const verdict = judgePart({ ruleId: RULE, tenantId: OTHER, ruleVersion: 1 }, { tenantId: OWNER, latest: 1 });
    expect(JSON.stringify(verdict)).not.toContain(OWNER);
  });
});

describe("screenInputs", () => {
  const part = (offset: number, tenantId: string, ruleVersion = 1): PartInput =>
    ({ kind: "part", offset, ruleId: RULE, ruleVersion, tenantId }) as PartInput;
  const watermark: WatermarkInput = { kind: "watermark", offset: 3, runsPartition: 0, streamTime: 10 };

  it("keeps watermarks and parts that check out, refuses the rest in offset order", () => {
    const owners = new Map([[RULE, { tenantId: OWNER, latest: 1 }]]);
    const out = screenInputs(
      [part(0, OWNER), part(1, OTHER), watermark, part(4, OWNER, 2)],
      [{ offset: "2", error: "invalid JSON" }],
      owners,
    );
    expect(out.inputs.map((i) => i.offset)).toEqual([0, 3]);
    expect(out.refused.map((r) => [r.offset, r.reason])).toEqual([
      ["1", "tenant_mismatch"],
      ["2", "invalid"],
      ["4", "unknown_rule_version"],
    ]);
  });

  it("turns a refusal into a dead letter keeping the original bytes", () => {
    const [refused] = screenInputs([part(7, OTHER)], [], new Map()).refused;
    const letter = deadLetter(refused!, Buffer.from("{…}"), { topic: "p.windows", partition: 2 }, new Date(0));
    expect(letter).toEqual({
      schema_version: 1,
      reason: "unknown_rule",
      error: `rule ${RULE} does not exist`,
      tenant_id: OTHER,
      rule_id: RULE,
      rule_version: 1,
      original: Buffer.from("{…}").toString("base64"),
      topic: "p.windows",
      partition: 2,
      offset: "7",
      dead_lettered_at: "1970-01-01T00:00:00.000Z",
    });
  });

  it("refuses a bundle's part alone, keeping it as the WindowPart message it stands for", () => {
    const bundle = Buffer.from(
      JSON.stringify({
        schema_version: 1,
        runs_partition: 0,
        parts: [0, 1].map((piece) => ({
          schema_version: 1,
          part_id: `6f1d5d0c-9e01-4f00-8a77-9b1f1a8c2a8${piece}`,
          rule_id: RULE,
          rule_version: 1,
          tenant_id: piece === 0 ? OWNER : OTHER,
          max_runs: 10,
          runs_partition: 0,
          piece,
          start_time: "2024-04-05T01:28:54.000Z",
          end_time: "2024-04-05T01:28:59.000Z",
          run_refs: [piece],
        })),
        run_times: [1, 2],
        runs: ["6ab80f10", "7ab80f10"].map((prefix, i) => ({
          id: `${prefix}-d79c-4fa2-b441-922ed6feb630`,
          name: i === 0 ? "a" : "b",
          run_type: "tool",
          start_time: "2024-04-05T01:28:54Z",
          end_time: "2024-04-05T01:28:55Z",
          tenant_id: OTHER,
        })),
      }),
    );
    const decoded = decodeBatch([{ offset: "9", value: bundle, headers: { "runhooks-kind": "parts" } }], 0);
    const out = screenInputs(decoded.inputs, [], new Map([[RULE, { tenantId: OWNER, latest: 1 }]]), decoded.bundled);
    expect(out.inputs).toEqual([decoded.inputs[0]]);
    expect(out.refused).toHaveLength(1);
    const r = out.refused[0]!;
    expect([r.offset, r.reason, r.part?.key]).toEqual(["9", "tenant_mismatch", RULE]);
    const letter = WindowDeadLetter.parse(
      deadLetter(r, r.part!.value, { topic: "p.windows", partition: 2 }, new Date(0)),
    );
    const original = WindowPart.parse(JSON.parse(Buffer.from(letter.original, "base64").toString()));
    expect([original.piece, original.tenant_id, original.run_times, original.runs.map((x) => x.name)]).toEqual([
      1,
      OTHER,
      [2],
      ["b"],
    ]);
  });
});

describe("dead letters on the wire", () => {
  const m = (bytes: number) => ({ value: "x".repeat(bytes) });
  it.each([
    // [why, sizes, budget, sends]
    ["nothing", [], 10, []],
    ["all within the budget: one send", [3, 3, 4], 10, [[3, 3, 4]]],
    ["over the budget: split, in order", [6, 3, 4, 9], 10, [[6, 3], [4], [9]]],
    ["one bigger than the budget: alone", [3, 25, 2], 10, [[3], [25], [2]]],
  ])("%s", (_why, sizes, budget, sends) => {
    expect(deadLetterSends(sizes.map(m), budget).map((s) => s.map((x) => x.value.length))).toEqual(sends);
  });

  it("keeps at most DEAD_LETTER_ERROR_CHARS of an error", () => {
    const long = "e".repeat(DEAD_LETTER_ERROR_CHARS + 10);
    const refused = { offset: "1", reason: "invalid" as const, error: long, claim: undefined };
    const where = { topic: "w", partition: 0 };
    const letter = deadLetter(refused, Buffer.from("x"), where, new Date(0));
    expect(letter.error).toBe(`${long.slice(0, DEAD_LETTER_ERROR_CHARS)}…`);
    expect(deadLetter({ ...refused, error: "short" }, null, where, new Date(0)).error).toBe("short");
  });
});
