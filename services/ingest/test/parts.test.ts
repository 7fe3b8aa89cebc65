import { randomUUID } from "node:crypto";
import { boundaryOf, parseMultipart } from "../src/multipart.js";
import { finalizeRun, mergeRun } from "../src/merge.js";
import { normalizeOp } from "../src/run-input.js";
import { opsFromParts } from "../src/run-ops.js";
import { describe, expect, it } from "vitest";
import { multipartBody, runParts } from "./multipart-body.js";

describe("multipart bodies as the SDK writes them", () => {
  it("reads every part, byte for byte, and assembles each run from its parts", () => {
    const id = randomUUID();
    const run = {
      id,
      name: "n",
      run_type: "llm",
      start_time: 1767225600000,
      inputs: { é: "ü\r\n--x" },
      outputs: { o: 1 },
      error: "boom",
      extra: { metadata: { m: 1 } },
    };
    const { body, headers } = multipartBody([
      ...runParts("post", run),
      {
        name: `attachment.${id}.file`,
        data: Buffer.from([0, 13, 10, 45, 45]),
        contentType: "application/octet-stream; length=5",
      },
    ]);
    const parsed = parseMultipart(body, boundaryOf(headers["content-type"]!)!);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.parts.map((p) => p.name)).toEqual([
      `post.${id}`,
      `post.${id}.inputs`,
      `post.${id}.outputs`,
      `post.${id}.extra`,
      `post.${id}.error`,
      `attachment.${id}.file`,
    ]);
    expect([...parsed.parts[5]!.data]).toEqual([0, 13, 10, 45, 45]);
    const ops = opsFromParts(parsed.parts);
    expect(ops).toMatchObject({ ok: true, ignored: { attachments: 1, feedback: 0 } });
    if (!ops.ok) return;
    expect(ops.ops).toEqual([{ kind: "post", id, body: run, source: `post.${id}` }]);
  });

  it("reads headers in any case, at the start of a line only", () => {
    const body = Buffer.from(
      '--b\r\nX-Note: content-disposition: form-data; name="wrong"\r\ncontent-DISPOSITION: form-data; name="post.Right"\r\nCONTENT-TYPE:  application/json \r\n\r\n{}\r\n--b--\r\n',
    );
    expect(parseMultipart(body, "b")).toMatchObject({
      ok: true,
      parts: [{ name: "post.Right", contentType: "application/json", data: Buffer.from("{}") }],
    });
    const nameless = Buffer.from('--b\r\nX-Note: content-disposition: form-data; name="wrong"\r\n\r\n{}\r\n--b--\r\n');
    expect(parseMultipart(nameless, "b")).toMatchObject({ ok: false, message: "part 1: no Content-Disposition name" });
  });

  // Blocks as the SDKs write them are read by a shortcut; these sit on its edges, read either way alike.
  it.each([
    ['Content-Disposition: form-data; name="a; b c"', "a; b c", "text/plain"],
    [
      'Content-Disposition: form-data; name="a"\r\nContent-Type:  application/json; length=2 ',
      "a",
      "application/json; length=2",
    ],
    ['Content-Disposition: form-data; name="a"; filename="f"\r\nContent-Type: x/y', "a", "x/y"],
    ['Content-Disposition: form-data; name="a"\r\nContent-Type: x/y\r\nContent-Type: z/w', "a", "x/y"],
    ['Content-Disposition: form-data; name="a"\r\nX-Other: 1\r\ncontent-type: x/y', "a", "x/y"],
    ['Content-Disposition: form-data; name=""', undefined, undefined],
    ['Content-Disposition: form-data; name="a', '"a', "text/plain"],
  ])("headers %j: name %s, type %s", (block, name, contentType) => {
    const read = parseMultipart(Buffer.from(`--b\r\n${block}\r\n\r\n{}\r\n--b--\r\n`), "b");
    if (name === undefined) expect(read).toMatchObject({ ok: false, message: "part 1: no Content-Disposition name" });
    else expect(read).toMatchObject({ ok: true, parts: [{ name, contentType, data: Buffer.from("{}") }] });
  });

  it("takes a quoted boundary and refuses a body without its closing boundary", () => {
    expect(boundaryOf('multipart/form-data; boundary="a b"')).toBe("a b");
    expect(parseMultipart(Buffer.from('--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n{}'), "b")).toMatchObject(
      { ok: false },
    );
  });
});

describe("part names", () => {
  const id = randomUUID();
  const run = JSON.stringify({ id, name: "n", run_type: "llm", start_time: 0 });
  it.each([
    ["post", "id"],
    ["post.", "id"],
    ["post.not-a-uuid", "id"],
    [`post.${id}.inputs.x`, "(name)"],
    [`post.${id}.`, "(name)"],
    [`post.${id}.secrets`, "(name)"],
    [`upsert.${id}`, "(name)"],
  ])("%s is refused, naming the part and field %s", (name, path) => {
    const ops = opsFromParts([
      { name: `post.${id}`, contentType: "application/json", data: Buffer.from(run) },
      { name, contentType: "application/json", data: Buffer.from("{}") },
    ]);
    expect(ops).toMatchObject({ ok: false, issues: [{ part: name, path }] });
  });

  it("gathers a run's parts whatever the case of its id, and refuses a second main part", () => {
    const upper = id.toUpperCase();
    const parts = [`post.${id}`, `post.${upper}.inputs`, `post.${id}.outputs`].map((name, i) => ({
      name,
      contentType: "application/json",
      data: Buffer.from(i === 0 ? run : `{"n": ${i}}`),
    }));
    const ops = opsFromParts(parts);
    expect(ops).toMatchObject({ ok: true, ops: [{ id, body: { inputs: { n: 1 }, outputs: { n: 2 } } }] });
    expect(
      opsFromParts([...parts, { name: `post.${upper}`, contentType: "application/json", data: Buffer.from(run) }]),
    ).toMatchObject({
      ok: false,
      issues: [{ part: `post.${upper}`, path: "(part)", message: "the same part appears twice" }],
    });
  });
});

describe("normalising and merging runs", () => {
  const tenant = randomUUID();

  it("sets the key's tenant, turns epoch milliseconds into ISO times, names the field at fault", () => {
    const id = randomUUID();
    const ok = normalizeOp(
      {
        kind: "post",
        id,
        source: `post.${id}`,
        body: { name: "n", run_type: "chain", start_time: 0, tenant_id: randomUUID() },
      },
      tenant,
    );
    expect(ok).toMatchObject({
      ok: true,
      op: { body: { id, tenant_id: tenant, start_time: "1970-01-01T00:00:00.000Z" } },
    });
    const bad = normalizeOp({ kind: "patch", id, source: `patch.${id}`, body: { end_time: "soon" } }, tenant);
    expect(bad).toMatchObject({ ok: false, issues: [{ part: `patch.${id}`, path: "end_time" }] });
  });

  it("lets an update win field by field and merges metadata key by key", () => {
    const merged = mergeRun(
      { a: 1, extra: { metadata: { x: 1, y: 1 }, runtime: { r: 1 } } },
      { b: 2, a: undefined, extra: { metadata: { y: 2 } } },
    );
    expect(merged).toEqual({ a: 1, b: 2, extra: { metadata: { x: 1, y: 2 }, runtime: { r: 1 } } });
  });

  it("derives status, trace, root and token counts the way LangSmith stores them", () => {
    const root = randomUUID();
    const id = randomUUID();
    const child = finalizeRun({
      id,
      parent_run_id: root,
      dotted_order: `20260101T000000000001Z${root}.20260101T000000000002Z${id}`,
      error: "x",
      outputs: { usage_metadata: { input_tokens: 3, output_tokens: 4 } },
    });
    expect(child).toMatchObject({
      status: "error",
      trace_id: root,
      is_root: false,
      prompt_tokens: 3,
      completion_tokens: 4,
      total_tokens: 7,
    });
    expect(
      finalizeRun({
        id: root,
        status: "pending",
        total_tokens: 9,
        extra: { metadata: { usage_metadata: { total_tokens: 1 } } },
      }),
    ).toMatchObject({ status: "pending", trace_id: root, is_root: true, total_tokens: 9 });
  });
});
