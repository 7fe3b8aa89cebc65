import { isUtf8 } from "node:buffer";
import { randomUUID } from "node:crypto";
import { boundaryOf, parseMultipart } from "../src/multipart.js";
import { finalizeRun, mergeRun } from "../src/merge.js";
import { normalizeOp } from "../src/run-input.js";
import { opsFromParts } from "../src/run-ops.js";
import { runJson } from "../src/run-json.js";
import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../../test/support/random.js";
import { multipartBody, runParts, type Part } from "./multipart-body.js";

const tenant = randomUUID();

/** What ingest would produce for these parts: each run's message, next to the run it was made from. */
function produced(parts: Part[]): { json: Buffer; run: Record<string, unknown> }[] {
  const { body, headers } = multipartBody(parts);
  const read = parseMultipart(body, boundaryOf(headers["content-type"]!)!);
  if (!read.ok) throw new Error(JSON.stringify(read));
  const ops = opsFromParts(read.parts);
  if (!ops.ok) throw new Error(JSON.stringify(ops.issues));
  const byId = new Map<string, Record<string, unknown> | null>();
  for (const op of ops.ops) {
    const normalized = normalizeOp(op, tenant);
    if (!normalized.ok) throw new Error(JSON.stringify(normalized.issues));
    byId.set(op.id, mergeRun(byId.get(op.id) ?? null, normalized.op.body));
  }
  return [...byId.values()].map((run) => {
    const final = finalizeRun(run!);
    // As the producer thread writes it: the string's UTF-8 bytes.
    return { json: Buffer.from(runJson(final, ops.sent), "utf8"), run: final };
  });
}

/** JSON values with the spellings JSON.stringify would not write: spaces, escapes, number forms. */
function oddJson(random: () => number, depth = 0): string {
  const roll = random();
  if (depth > 2 || roll < 0.3) {
    return [
      "1.0",
      "1e2",
      "-0",
      "0.5E-3",
      '"\\u00e9\\n\\"q\\""',
      '"é😀"',
      "true",
      "null",
      '"\\ud800"',
      "12345678901234567890",
    ][Math.floor(random() * 10)]!;
  }
  const n = Math.floor(random() * 4);
  if (roll < 0.6) return `[ ${Array.from({ length: n }, () => oddJson(random, depth + 1)).join(" , ")} ]`;
  return `{ ${Array.from({ length: n }, (_, i) => `"k${i}" :\t${oddJson(random, depth + 1)}`).join(",\n")} }`;
}

describe("producing a run with the JSON text its parts were sent in", () => {
  // The very values parsed and checked (JSON.stringify would even turn a sent -0 into 0).
  it("reads back as the run it was made from, for 500 runs with oddly spelled fields", () => {
    const random = mulberry32(11);
    for (let i = 0; i < 500; i++) {
      const id = randomUUID();
      const main = {
        id,
        name: "n",
        run_type: "llm",
        start_time: 1767225600000,
        end_time: "2026-01-01T00:00:01Z",
        dotted_order: `20260101T000000000000Z${id}`,
      };
      const parts: Part[] = [{ name: `post.${id}`, data: JSON.stringify(main) }];
      for (const field of ["inputs", "outputs", "extra"])
        if (random() < 0.8) parts.push({ name: `post.${id}.${field}`, data: `{ "v" : ${oddJson(random)} }` });
      if (random() < 0.5) parts.push({ name: `post.${id}.events`, data: `[ ${oddJson(random)} ]` });
      const [{ json, run }] = produced(parts) as [{ json: Buffer; run: Record<string, unknown> }];
      expect(isUtf8(json)).toBe(true);
      expect(JSON.parse(json.toString("utf8"))).toEqual(run);
    }
  });

  it("keeps the client's spelling of fields it did not change, and writes the ones it did", () => {
    const id = randomUUID();
    const run = { id, name: "n", run_type: "llm", start_time: 1767225600000, end_time: 1767225601000 };
    const [{ json, run: made }] = produced([
      ...runParts("post", run),
      { name: `post.${id}.inputs`, data: '{"q" : "\\u00e9", "n": 1.0}' },
      { name: `post.${id}.extra`, data: '{"metadata": {"a": 1}}' },
      // The update of the same request merges its extra with the create's: a new object, written anew.
      { name: `patch.${id}`, data: JSON.stringify({ id, end_time: 1767225602000 }) },
      { name: `patch.${id}.extra`, data: '{"metadata": {"b": 2}}' },
    ]) as [{ json: Buffer; run: Record<string, unknown> }];
    const text = json.toString("utf8");
    expect(text).toContain('"inputs":{"q" : "\\u00e9", "n": 1.0}');
    expect(JSON.parse(text)).toEqual(made);
    expect(JSON.parse(text)).toMatchObject({
      extra: { metadata: { a: 1, b: 2 } },
      end_time: "2026-01-01T00:00:02.000Z",
      tenant_id: tenant,
    });
  });

  it("writes valid UTF-8 whatever the part's bytes: invalid sequences read as U+FFFD, as when parsed", () => {
    const id = randomUUID();
    const run = { id, name: "n", run_type: "llm", start_time: 1767225600000, end_time: 1767225601000 };
    const bad = Buffer.concat([Buffer.from('{"q": "a'), Buffer.from([0xf1, 0x80, 0x80, 0xff]), Buffer.from('b"}')]);
    const [{ json, run: made }] = produced([...runParts("post", run), { name: `post.${id}.inputs`, data: bad }]) as [
      { json: Buffer; run: Record<string, unknown> },
    ];
    expect(isUtf8(json)).toBe(true);
    expect(JSON.parse(json.toString("utf8"))).toEqual(made);
    expect((JSON.parse(json.toString("utf8")) as { inputs: { q: string } }).inputs.q).toContain("\ufffd");
  });

  it("keeps a run's own __proto__ field, and a run whose fields were all sent apart", () => {
    const sent = new Map<object, string>();
    const inputs = { a: 1 };
    sent.set(inputs, '{"a": 1}');
    const run = JSON.parse('{"__proto__": {"x": 1}, "id": "i"}') as Record<string, unknown>;
    run["inputs"] = inputs;
    expect(JSON.parse(runJson(run, sent))).toEqual(JSON.parse(JSON.stringify(run)));
    expect(Object.keys(JSON.parse(runJson(run, sent)) as object)).toContain("__proto__");
    expect(runJson({ inputs }, sent)).toBe('{"inputs":{"a": 1}}');
  });
});
