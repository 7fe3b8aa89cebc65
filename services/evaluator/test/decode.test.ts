import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DeadLetter, RuleError, type RuleVersion } from "@runhooks/contracts";
import { applyRuleVersion, createRuleBook } from "@runhooks/rules";
import { decodeRun } from "../src/decode.js";
import { judgeRun } from "../src/judge.js";
import { checkJsonDepth } from "@runhooks/limits";
import { createRuleErrorBatch } from "../src/rule-errors.js";
import { deadLetterMessage } from "../src/dead-letter.js";

const TENANT = "2ebda79f-2946-4491-a9ad-d642f49e0815";
const limits = { maxBytes: 512 * 1024, maxDepth: 64 };

function run(patch: Record<string, unknown> = {}): Record<string, unknown> {
  const id = randomUUID();
  return {
    id,
    trace_id: id,
    name: "ChatOpenAI",
    run_type: "llm",
    start_time: "2024-04-05T01:28:54.085649Z",
    end_time: "2024-04-05T01:28:55.085649Z",
    tenant_id: TENANT,
    inputs: { prompt: "hello" },
    ...patch,
  };
}
const bytes = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value));
/** `inputs.x` nested `depth` arrays deep, as text (JSON.stringify of such a value would itself recurse). */
const deepRunText = (depth: number, extra = "") =>
  `{"id":"${randomUUID()}","name":"n","run_type":"llm","start_time":"2024-04-05T01:28:54Z","end_time":"2024-04-05T01:28:55Z"${extra},"inputs":{"x":${"[".repeat(depth)}${"]".repeat(depth)}}}`;

/** Depth as a recursive walk of the parsed value sees it (the reference for the byte scan). */
function depthOf(v: unknown): number {
  if (Array.isArray(v)) return 1 + Math.max(0, ...v.map(depthOf));
  if (v !== null && typeof v === "object") return 1 + Math.max(0, ...Object.values(v).map(depthOf));
  return 0;
}

describe("the depth scan", () => {
  it.each([
    ["a scalar", "42", 0],
    ["an empty object", "{}", 1],
    ["brackets inside strings", '{"a":"[[[{{{","b":["]]]}}}"]}', 2],
    ["an escaped quote before brackets", String.raw`{"a":"\"[[[[","b":[]}`, 2],
    ["an escaped backslash closing a string", String.raw`{"a":"\\","b":[[[]]]}`, 4],
    ["unicode text", '{"a":"日本語 [ é","b":[{"c":[]}]}', 4],
  ])("measures %s", (_what, text, depth) => {
    expect(checkJsonDepth(bytes(text), depth).ok).toBe(true);
    if (depth > 0) expect(checkJsonDepth(bytes(text), depth - 1).ok).toBe(false);
    expect(depthOf(JSON.parse(text))).toBe(depth);
  });

  it("agrees with a recursive walk on generated values", () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const gen = (d: number): unknown => {
      const r = rnd();
      if (d > 12 || r < 0.3) return rnd() < 0.5 ? 's"[{\\' + String(Math.floor(rnd() * 100)) : rnd();
      const n = Math.floor(rnd() * 4);
      if (r < 0.65) return Array.from({ length: n }, () => gen(d + 1));
      return Object.fromEntries(Array.from({ length: n }, (_, k) => ["k]" + String(k) + '"', gen(d + 1)]));
    };
    for (let i = 0; i < 500; i++) {
      const value = gen(0);
      const depth = depthOf(value);
      expect(checkJsonDepth(bytes(value), depth).ok).toBe(true);
      if (depth > 0) expect(checkJsonDepth(bytes(value), depth - 1)).toMatchObject({ ok: false });
    }
  });
});

describe("decoding a run", () => {
  it("refuses a 200 KB run nested 100,000 deep as too_deep, naming the limit, without throwing", () => {
    const text = deepRunText(100_000, `,"tenant_id":"${TENANT}"`);
    expect(text.length).toBeGreaterThan(200_000);
    const decoded = decodeRun(bytes(text), limits);
    expect(decoded).toMatchObject({ ok: false, reason: "too_deep" });
    expect(!decoded.ok && decoded.error).toMatch(/the limit is 64 \(RUNHOOKS_MAX_RUN_DEPTH\)/);
  });

  it("refuses deep nesting before zod sees it, also when the run is invalid anyway (zod's path)", () => {
    // No tenant_id: the fast check fails, and zod would walk the nesting recursively.
    expect(decodeRun(bytes(deepRunText(100_000)), limits)).toMatchObject({ ok: false, reason: "too_deep" });
    expect(decodeRun(bytes(deepRunText(200)), limits)).toMatchObject({ ok: false, reason: "too_deep" });
  });

  it("accepts nesting up to the limit and refuses one level more", () => {
    // The run object and `inputs` are two levels; `x` adds the rest.
    expect(decodeRun(bytes(deepRunText(62, `,"tenant_id":"${TENANT}"`)), limits)).toMatchObject({ ok: true });
    expect(decodeRun(bytes(deepRunText(63, `,"tenant_id":"${TENANT}"`)), limits)).toMatchObject({
      ok: false,
      reason: "too_deep",
    });
    expect(decodeRun(bytes(deepRunText(63, `,"tenant_id":"${TENANT}"`)), { ...limits, maxDepth: 65 })).toMatchObject({
      ok: true,
    });
  });

  it("accepts huge flat arrays, and explains a refused run with one without throwing", () => {
    const arr = Array.from({ length: 60_000 }, (_, i) => i);
    const ok = decodeRun(bytes(run({ inputs: { arr } })), limits);
    expect(ok.ok && (ok.run.inputs?.["arr"] as unknown[]).length).toBe(60_000);
    const half = arr.slice(0, 25_000);
    const refused = decodeRun(bytes(run({ tenant_id: undefined, tags: half.map(String), events: half })), limits);
    expect(refused).toMatchObject({ ok: false, reason: "schema_invalid" });
    expect(!refused.ok && refused.error).toMatch(/tenant_id/);
  });

  it("never takes a field from a __proto__ key, and keeps such keys as plain data", () => {
    const text = JSON.stringify(run({ tenant_id: undefined })).replace(
      /^\{/,
      `{"__proto__":{"tenant_id":"${TENANT}"},`,
    );
    expect(decodeRun(bytes(text), limits)).toMatchObject({ ok: false, reason: "schema_invalid" });

    const hostile = JSON.stringify(run()).replace(
      '"inputs":{',
      '"inputs":{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},',
    );
    const decoded = decodeRun(bytes(hostile), limits);
    expect(decoded.ok).toBe(true);
    const inputs = decoded.ok ? decoded.run.inputs! : {};
    expect(Object.prototype.hasOwnProperty.call(inputs, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(inputs)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  it("names the size limit's variable when a run is oversized", () => {
    const decoded = decodeRun(bytes(run({ inputs: { blob: "x".repeat(2000) } })), { maxBytes: 1024, maxDepth: 64 });
    expect(decoded).toMatchObject({ ok: false, reason: "oversized" });
    expect(!decoded.ok && decoded.error).toMatch(/limit is 1024 \(RUNHOOKS_MAX_RUN_BYTES\)/);
  });
});

describe("judging a run", () => {
  const rule = (filter: unknown): RuleVersion => ({
    schema_version: 1,
    kind: "rule",
    rule_id: randomUUID(),
    version: 1,
    tenant_id: TENANT,
    session_id: null,
    enabled: true,
    sampling_rate: 1,
    filter: filter as RuleVersion["filter"],
    window: { seconds: 1, max_runs: 100 },
  });

  it("turns anything that throws while judging into an evaluation_failed dead letter", () => {
    const book = createRuleBook();
    // A rule the run's name reaches through the index, so its filter is called.
    const r = rule({ "==": [{ var: "name" }, "ChatOpenAI"] });
    applyRuleVersion(book, { ruleId: r.rule_id, rule: r, effectiveFrom: 0 });
    // A filter that throws stands for any unexpected failure inside matching (the compiled filter
    // itself: the version and its tenant's index share it).
    const entry = book.rules.get(r.rule_id)!.entries[0] as unknown as { filter: { evaluate: () => boolean } };
    entry.filter.evaluate = () => {
      throw new RangeError("Maximum call stack size exceeded");
    };
    const judged = judgeRun(bytes(run()), limits, book, 1000);
    expect(judged).toEqual({
      kind: "dead_letter",
      reason: "evaluation_failed",
      error: "RangeError: Maximum call stack size exceeded",
    });
  });

  it("judges valid runs, skips unfinished ones and dead-letters refused ones", () => {
    const book = createRuleBook();
    const r = rule({ "==": [{ var: "name" }, "ChatOpenAI"] });
    applyRuleVersion(book, { ruleId: r.rule_id, rule: r, effectiveFrom: 0 });
    expect(judgeRun(bytes(run()), limits, book, 1000)).toMatchObject({
      kind: "matched",
      matches: [{ ruleId: r.rule_id }],
      ruleErrors: [],
    });
    expect(judgeRun(bytes(run({ name: "other" })), limits, book, 1000)).toMatchObject({
      kind: "not_matched",
      ruleErrors: [],
    });
    expect(judgeRun(bytes(run({ end_time: null })), limits, book, 1000)).toMatchObject({ kind: "not_ended" });
    expect(judgeRun(bytes("{nope"), limits, book, 1000)).toMatchObject({ kind: "dead_letter", reason: "invalid_json" });
  });

  it("reports a rule whose filter runs out of its budget as a rule error, and still judges the others", () => {
    const book = createRuleBook();
    // Admitted by the static bound (it assumes 16 elements per array of the run), not by the budget.
    const bomb = rule({
      some: [{ var: "inputs.big" }, { some: [Array.from({ length: 600 }, (_, i) => i), { "==": [{ var: "" }, -1] }] }],
    });
    const plain = rule({ "==": [{ var: "name" }, "ChatOpenAI"] });
    for (const r of [bomb, plain]) applyRuleVersion(book, { ruleId: r.rule_id, rule: r, effectiveFrom: 0 });
    const judged = judgeRun(
      bytes(run({ inputs: { big: Array.from({ length: 5000 }, (_, i) => i) } })),
      limits,
      book,
      1000,
    );
    expect(judged.kind).toBe("matched");
    if (judged.kind !== "matched") return;
    expect(judged.matches.map((m) => m.ruleId)).toEqual([plain.rule_id]);
    expect(judged.ruleErrors.map((e) => e.spec.ruleId)).toEqual([bomb.rule_id]);
    expect(judged.ruleErrors[0]!.error.length).toBeGreaterThan(0);
  });

  it("writes dead letters the contract accepts, for the new reasons too", () => {
    const message = { key: Buffer.from("k"), value: bytes(deepRunText(100)), timestamp: "1712280534000", offset: "42" };
    for (const reason of ["too_deep", "evaluation_failed"] as const) {
      const out = deadLetterMessage({ runs: "p.runs", runsDlq: "p.runs.dlq" }, message, 3, reason, "why");
      const letter = DeadLetter.parse(JSON.parse(String(out.messages[0]!.value)));
      expect(letter).toMatchObject({ reason, partition: 3, offset: "42", topic: "p.runs" });
      expect(Buffer.from(letter.original, "base64").equals(message.value)).toBe(true);
    }
  });
});

describe("a flush's rule errors", () => {
  const spec = (ruleId: string, ruleVersion = 1) => ({
    ruleId,
    ruleVersion,
    tenantId: TENANT,
    seconds: 1,
    maxRuns: 100,
  });

  it("publishes per rule version one record: the count and the first error as its sample", () => {
    const batch = createRuleErrorBatch();
    const [a, b] = [randomUUID(), randomUUID()];
    const runs = [randomUUID(), randomUUID(), randomUUID()];
    batch.add(spec(b), runs[0]!, 1000, "budget exceeded");
    batch.add(spec(a), runs[1]!, 2000, "first of a");
    batch.add(spec(a), runs[2]!, 3000, "second of a");
    batch.add(spec(a, 2), runs[2]!, 3000, "v2");
    expect(batch.size).toBe(3);
    const records = batch.drain().map((m) => ({ key: m.key, record: RuleError.parse(JSON.parse(String(m.value))) }));
    expect(records.map((r) => [r.key, r.record.rule_version, r.record.count, r.record.run_id, r.record.error])).toEqual(
      [
        [b, 1, 1, runs[0], "budget exceeded"],
        [a, 1, 2, runs[1], "first of a"],
        [a, 2, 1, runs[2], "v2"],
      ],
    );
    expect(records[1]!.record.log_time).toBe("1970-01-01T00:00:02.000Z");
    expect(batch.size).toBe(0);
    expect(batch.drain()).toEqual([]);
  });

  it("cuts long error texts", () => {
    const batch = createRuleErrorBatch();
    batch.add(spec(randomUUID()), randomUUID(), 0, "e".repeat(10_000));
    const record = RuleError.parse(JSON.parse(String(batch.drain()[0]!.value)));
    expect(record.error).toHaveLength(501);
    expect(record.error.endsWith("…")).toBe(true);
  });
});
