import { randomUUID } from "node:crypto";
import { PendingQuota } from "../src/pending-quota.js";
import { classifyStoreError } from "../src/store-errors.js";
import { opsFromParts } from "../src/run-ops.js";
import { parseMultipart } from "../src/multipart.js";
import { depthOf, nestsDeeperThan } from "@runhooks/limits";
import { describe, expect, it } from "vitest";
import { multipartBody, type Part } from "./multipart-body.js";

const deep = (n: number, open = "[", close = "]") => `${open.repeat(n)}${close.repeat(n)}`;

describe("nesting depth on the bytes", () => {
  it.each<[string, string, number, boolean]>([
    ["exactly at the limit", deep(4), 4, false],
    ["one past it", deep(5), 4, true],
    ["objects count like arrays", `${'{"a":'.repeat(5)}1${"}".repeat(5)}`, 4, true],
    ["brackets inside strings do not count", `["${"[".repeat(50)}"]`, 4, false],
    ["an escaped quote does not end the string", `["\\"${"[".repeat(50)}"]`, 4, false],
    ["an escaped backslash before the quote does", `["\\\\", ${deep(5)}]`, 4, true],
    [
      "siblings do not add up",
      `[${deep(4)}, ${deep(4)}, ${deep(4)}]`.replace(/^\[/, '{"a":').replace(/\]$/, "}"),
      5,
      false,
    ],
    ["an unterminated string stops the scan", `["${"[".repeat(50)}`, 4, false],
    ["short texts pass at once", "[[[", 4, false],
  ])("%s", (_name, text, max, expected) => {
    expect(nestsDeeperThan(Buffer.from(text), max)).toBe(expected);
  });

  it("agrees with the walk of the parsed value", () => {
    for (const n of [1, 3, 10, 40]) {
      const text = `{"x":${deep(n)},"y":[1]}`;
      const depth = depthOf(JSON.parse(text), 1_000);
      expect(depth).toBe(n + 1);
      expect(nestsDeeperThan(Buffer.from(text), depth)).toBe(false);
      expect(nestsDeeperThan(Buffer.from(`${text}${" ".repeat(2 * depth)}`), depth - 1)).toBe(true);
    }
  });

  it("walks a value deeper than the stack would allow", () => {
    expect(depthOf(JSON.parse(deep(100_000)), 300)).toBe(301);
  });
});

describe("multipart limits (pure)", () => {
  const body = (parts: Part[]) => multipartBody(parts);
  const boundaryOfHeaders = (headers: Record<string, string>) => /boundary=(.+)$/.exec(headers["content-type"]!)![1]!;
  const fields = (n: number): Part[] =>
    Array.from({ length: n }, () => ({ name: `post.${randomUUID()}.inputs`, data: "{}" }));

  it.each<[string, number, number, string]>([
    ["under the limit", 3, 4, "ok"],
    ["at the limit", 4, 4, "ok"],
    ["one past the limit", 5, 4, "too_many_parts"],
    ["far past the limit", 1_000, 4, "too_many_parts"],
  ])("%s: %d parts, limit %d", (_name, n, limit, expected) => {
    const { body: raw, headers } = body(fields(n));
    const result = parseMultipart(raw, boundaryOfHeaders(headers), limit);
    expect(result.ok ? "ok" : result.reason).toBe(expected);
    if (!result.ok && result.reason === "too_many_parts") expect(result.limit).toBe(limit);
  });

  it("reports each field part without its run once, and a malformed run part only once", () => {
    const orphans = fields(5_000);
    const { body: raw, headers } = body(orphans);
    const parsed = parseMultipart(raw, boundaryOfHeaders(headers), 10_000);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const ops = opsFromParts(parsed.parts);
    expect(ops.ok).toBe(false);
    if (ops.ok) return;
    expect(ops.issues).toHaveLength(5_000);
    expect(new Set(ops.issues.map((i) => i.part)).size).toBe(5_000);

    const id = randomUUID();
    const broken = opsFromParts([
      { name: `post.${id}`, contentType: "application/json", data: Buffer.from("{nope") },
      { name: `post.${id}.inputs`, contentType: "application/json", data: Buffer.from("{}") },
    ]);
    expect(broken).toMatchObject({ ok: false, issues: [{ part: `post.${id}`, path: "(part)" }] });
  });

  it("refuses a part nested past the limit, naming it and its field", () => {
    const id = randomUUID();
    const ops = opsFromParts(
      [
        {
          name: `post.${id}`,
          contentType: "application/json",
          data: Buffer.from(JSON.stringify({ name: "n", run_type: "chain", start_time: "2026-01-01T00:00:00Z" })),
        },
        { name: `post.${id}.inputs`, contentType: "application/json", data: Buffer.from(deep(20)) },
      ],
      10,
    );
    expect(ops).toMatchObject({ ok: false, issues: [{ part: `post.${id}.inputs`, path: "inputs" }] });
    expect(ops.ok ? "" : ops.issues[0]!.message).toContain("RUNHOOKS_INGEST_MAX_JSON_DEPTH");
  });
});

describe("Postgres errors: unavailable (503) or the data (400)", () => {
  it.each<[string, unknown, string]>([
    ["\\u0000 in jsonb (22P05)", { code: "22P05", message: "unsupported Unicode escape sequence" }, "data"],
    ["a value out of range (22003)", { code: "22003" }, "data"],
    ["a foreign key (23503)", { code: "23503" }, "data"],
    ["a value too large to index (54000)", { code: "54000" }, "data"],
    ["connection refused", { code: "ECONNREFUSED" }, "unavailable"],
    ["connection reset", { code: "ECONNRESET" }, "unavailable"],
    ["admin shutdown (57P01)", { code: "57P01" }, "unavailable"],
    ["too many connections (53300)", { code: "53300" }, "unavailable"],
    ["a deadlock (40P01)", { code: "40P01" }, "unavailable"],
    ["the driver's connection ended", new Error("Connection terminated unexpectedly"), "unavailable"],
    ["a syntax error: ours (42601)", { code: "42601" }, "internal"],
    ["a stack overflow", new RangeError("Maximum call stack size exceeded"), "internal"],
    ["not an error at all", "boom", "internal"],
  ])("%s", (_name, error, expected) => {
    expect(classifyStoreError(error)).toBe(expected);
  });
});

describe("the per-tenant pending estimate", () => {
  it.each<[string, Record<string, number>, [string, number][], string, number, boolean]>([
    // name, store counts, applied changes, tenant, added, needs an exact count
    ["a quiet tenant adds without a count", { a: 1 }, [], "a", 3, false],
    ["up to the limit without a count", { a: 2 }, [], "a", 3, false],
    ["past the estimate: count", { a: 3 }, [], "a", 3, true],
    ["adding nothing never counts", { a: 100 }, [], "a", 0, false],
    ["another tenant's runs do not count", { b: 100 }, [], "a", 5, false],
    ["committed additions count", {}, [["a", 4]], "a", 2, true],
    ["completions make room", { a: 5 }, [["a", -2]], "a", 2, false],
  ])("%s", (_name, counts, changes, tenant, added, expected) => {
    const quota = new PendingQuota(5);
    quota.reset(new Map(Object.entries(counts)));
    for (const [t, delta] of changes) quota.apply(t, delta);
    expect(quota.needsCount(tenant, added)).toBe(expected);
  });
});
