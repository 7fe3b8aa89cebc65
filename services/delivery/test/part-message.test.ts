import { randomUUID } from "node:crypto";
import { v5 as uuidv5 } from "uuid";
import { describe, expect, it } from "vitest";
import { WebhookPayload, WindowPart } from "@runhooks/contracts";
import { attemptMessage } from "../src/attempt-message.js";
import { deliveryId } from "../src/delivery-id.js";
import { elementSpans, memberSpan } from "../src/json-span.js";
import { decodeBundle, decodePart, decodeWatermark, windowPartJson } from "../src/part-message.js";
import { chunkBody } from "../src/window-batch.js";
import { DeliveryAttempt } from "@runhooks/contracts";

const RUN = `{"id":"6ab80f10-d79c-4fa2-b441-922ed6feb630","name":"Search","run_type":"tool","start_time":"2024-04-05T01:28:54.085646","end_time":"2024-04-05T01:28:54.085649","tenant_id":"2ebda79f-2946-4491-a9ad-d642f49e0815","total_cost":1.50,"custom":{"nested":["a,b}",{"x":"]\\"}"}]},"unknown_field":"kept"}`;
const RUN2 = RUN.replace("6ab80f10", "7ab80f10");
const head = {
  schema_version: 1,
  part_id: "3f1d5d0c-9e01-4f00-8a77-9b1f1a8c2a8e",
  rule_id: "d75d7417-0c57-4655-88fe-1db3cda3a47a",
  rule_version: 3,
  tenant_id: "2ebda79f-2946-4491-a9ad-d642f49e0815",
  max_runs: 100,
  runs_partition: 4,
  piece: 1,
  start_time: "2024-04-05T01:28:54.000Z",
  end_time: "2024-04-05T01:28:59.000Z",
};
const message = (runs: string, times = "[1712280534100,1712280534200]", h: object = head) =>
  `${JSON.stringify(h).slice(0, -1)},"runs":[${runs}],"run_times":${times}}`;
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();

describe("part messages", () => {
  it("give each run's bytes exactly, its id and its time, and the part's place", () => {
    const raw = Buffer.from(message(`${RUN},${RUN2}`));
    expect(WindowPart.safeParse(JSON.parse(raw.toString())).success).toBe(true);
    const decoded = decodePart(raw);
    if (!decoded.ok) throw new Error(decoded.error);
    const { runs, ...part } = decoded.part;
    expect(part).toEqual({
      partId: head.part_id,
      ruleId: head.rule_id,
      ruleVersion: 3,
      tenantId: head.tenant_id,
      maxRuns: 100,
      runsPartition: 4,
      piece: 1,
      startMs: Date.parse(head.start_time),
      endMs: Date.parse(head.end_time),
    });
    expect(runs.map((r) => [r.runId, text(r.json), r.time])).toEqual([
      ["6ab80f10-d79c-4fa2-b441-922ed6feb630", RUN, 1712280534100],
      ["7ab80f10-d79c-4fa2-b441-922ed6feb630", RUN2, 1712280534200],
    ]);
    // Copies: the fetch buffer is not kept alive by an open window (nor read again).
    raw.fill(0x20);
    expect(text(runs[0]!.json)).toBe(RUN);
  });

  it("keep multi-byte text in the runs exactly (the body is UTF-8 bytes)", () => {
    const run = RUN.replace('"Search"', '"Sök 🙂 ✓"');
    const decoded = decodePart(Buffer.from(message(run, "[5]")));
    if (!decoded.ok) throw new Error(decoded.error);
    expect(Buffer.from(decoded.part.runs[0]!.json).equals(Buffer.from(run))).toBe(true);
  });

  it("find the runs wherever they are and however spaced", () => {
    const spaced = `{ "runs" : [ ${RUN} ,\n ${RUN2} ] , "run_times": [1, 2], ${JSON.stringify(head).slice(1)}`;
    const decoded = decodePart(Buffer.from(spaced));
    if (!decoded.ok) throw new Error(decoded.error);
    expect(decoded.part.runs.map((r) => text(r.json))).toEqual([RUN, RUN2]);
  });

  it.each([
    ["empty", "", /empty/],
    ["not JSON", "{", /invalid JSON/],
    ["no runs", message("", "[]"), /runs: a part holds at least one run/],
    ["a run without an id", message(`{"name":"x"}`, "[1]"), /runs\.0\.id/],
    ["fewer times than runs", message(`${RUN},${RUN2}`, "[1]"), /run_times: must hold one time per run/],
    ["a time that is not a stream time", message(RUN, "[-1]"), /run_times\.0/],
    ["no times", `${JSON.stringify(head).slice(0, -1)},"runs":[${RUN}]}`, /run_times/],
    ["a bad rule id", message(RUN, "[1]", { ...head, rule_id: "x" }), /rule_id/],
    ["an unknown member", message(RUN, "[1]", { ...head, extra: 1 }), /extra|unrecognized/i],
    ["an end before the start", message(RUN, "[1]", { ...head, end_time: head.start_time }), /end_time/],
  ])("are refused when %s", (_what, value, error) => {
    const decoded = decodePart(Buffer.from(value));
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.error).toMatch(error);
  });
});

describe("bundles of parts", () => {
  const entry = (patch: object = {}) => ({ ...head, run_refs: [1, 0], ...patch });
  const bundle = (o: { parts?: object[]; times?: string; runs?: string; extra?: string } = {}) =>
    `{"schema_version":1,"runs_partition":4,"parts":${JSON.stringify(o.parts ?? [entry()])}${o.extra ?? ""},` +
    `"run_times":${o.times ?? "[10,20]"},"runs":[${o.runs ?? `${RUN},${RUN2}`}]}`;

  it("expand into their parts, each run's bytes exactly, shared, in the order the part names them", () => {
    const second = { ...head, part_id: "4f1d5d0c-9e01-4f00-8a77-9b1f1a8c2a8e", run_refs: [1], traceparent: "00-x" };
    const decoded = decodeBundle(Buffer.from(bundle({ parts: [entry(), second] })));
    if (!decoded.ok) throw new Error(decoded.error);
    expect(
      decoded.parts.map((p) => [p.part.partId, p.traceparent, p.part.runs.map((r) => [text(r.json), r.time])]),
    ).toEqual([
      [
        head.part_id,
        undefined,
        [
          [RUN2, 20],
          [RUN, 10],
        ],
      ],
      [second.part_id, "00-x", [[RUN2, 20]]],
    ]);
    // Each a part as its single message would give it.
    const single = decodePart(windowPartJson(decoded.parts[0]!.head, decoded.parts[0]!.part.runs));
    if (!single.ok) throw new Error(single.error);
    expect(single.part).toEqual(decoded.parts[0]!.part);
    expect(
      WindowPart.safeParse(JSON.parse(windowPartJson(decoded.parts[1]!.head, decoded.parts[1]!.part.runs).toString()))
        .success,
    ).toBe(true);
  });

  it.each([
    ["not JSON", "{", /invalid JSON/],
    ["no parts", bundle({ parts: [] }), /parts: a bundle holds at least one part/],
    ["no runs", bundle({ runs: "", times: "[]" }), /runs: a bundle holds at least one run/],
    ["a run without an id", bundle({ runs: `{"name":"x"},${RUN}` }), /runs\.0\.id/],
    ["fewer times than runs", bundle({ times: "[1]" }), /run_times: must hold one time per run/],
    ["a bundle's unknown member", bundle({ extra: `,"extra":1` }), /extra/],
    ["another schema version", bundle().replace('"schema_version":1', '"schema_version":2'), /schema_version/],
    ["no runs partition", bundle().replace('"runs_partition":4', '"runs_partition":-1'), /runs_partition/],
  ])("are refused whole when their envelope is bad: %s", (_what, value, error) => {
    const decoded = decodeBundle(Buffer.from(value));
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.error).toMatch(error);
  });

  // A bundle mixes every tenant's rules that hash to its windows partition: a bad entry goes alone.
  const other = "4f1d5d0c-9e01-4f00-8a77-9b1f1a8c2a8e";
  const rebuiltPart = (members: object, runs: string) =>
    `${JSON.stringify(members).slice(0, -1)},"run_times":[20,10],"runs":[${runs}]}`;
  const { run_refs: _refs, ...members } = entry({ rule_version: 0 });
  it.each<[string, unknown, RegExp, string | undefined, string]>([
    [
      "a ref past the runs",
      entry({ run_refs: [2] }),
      /^parts\.0\.run_refs\.0/,
      head.rule_id,
      JSON.stringify(entry({ run_refs: [2] })),
    ],
    [
      "no refs",
      entry({ run_refs: [] }),
      /^parts\.0\.run_refs/,
      head.rule_id,
      `${JSON.stringify({ ...members, rule_version: 3 }).slice(0, -1)},"run_times":[],"runs":[]}`,
    ],
    [
      "another runs partition",
      entry({ runs_partition: 5 }),
      /^parts\.0\.runs_partition/,
      head.rule_id,
      rebuiltPart({ ...members, rule_version: 3, runs_partition: 5 }, `${RUN2},${RUN}`),
    ],
    [
      "an unknown member",
      entry({ extra: 1 }),
      /^parts\.0.*(extra|unrecognized)/i,
      head.rule_id,
      rebuiltPart({ ...members, rule_version: 3, extra: 1 }, `${RUN2},${RUN}`),
    ],
    [
      "ending before it starts",
      entry({ end_time: head.start_time }),
      /^parts\.0\.end_time/,
      head.rule_id,
      rebuiltPart({ ...members, rule_version: 3, end_time: head.start_time }, `${RUN2},${RUN}`),
    ],
    [
      "a bad version",
      entry({ rule_version: 0 }),
      /^parts\.0\.rule_version/,
      head.rule_id,
      rebuiltPart(members, `${RUN2},${RUN}`),
    ],
    [
      "an unreadable rule id",
      entry({ rule_id: "x" }),
      /^parts\.0\.rule_id/,
      undefined,
      rebuiltPart({ ...members, rule_version: 3, rule_id: "x" }, `${RUN2},${RUN}`),
    ],
    ["not an object", 7, /^parts\.0/, undefined, "7"],
  ])("refuse an entry alone when it has %s, the others going on", (_what, bad, error, ruleId, value) => {
    const good = { ...head, part_id: other, run_refs: [1] };
    const decoded = decodeBundle(Buffer.from(bundle({ parts: [bad as object, good] })));
    if (!decoded.ok) throw new Error(decoded.error);
    expect(decoded.parts.map((p) => p.part.partId)).toEqual([other]);
    expect(decoded.refused).toHaveLength(1);
    const [refused] = decoded.refused;
    expect(refused!.error).toMatch(error);
    expect(refused!.ruleId).toBe(ruleId);
    expect(refused!.value.toString()).toBe(value);
  });

  it("refuse every bad entry alone, in order", () => {
    const decoded = decodeBundle(
      Buffer.from(bundle({ parts: [entry({ rule_version: 0 }), entry({ part_id: other }), entry({ run_refs: [9] })] })),
    );
    if (!decoded.ok) throw new Error(decoded.error);
    expect(decoded.parts.map((p) => p.part.partId)).toEqual([other]);
    expect(decoded.refused.map((r) => r.error.split(":")[0])).toEqual(["parts.0.rule_version", "parts.2.run_refs.0"]);
  });
});

describe("watermark messages", () => {
  it.each([
    [
      { schema_version: 1, runs_partition: 2, stream_time: 1712280534000 },
      { ok: true, runsPartition: 2, streamTime: 1712280534000 },
    ],
    [{ schema_version: 1, runs_partition: -1, stream_time: 1 }, { ok: false }],
    [{ schema_version: 1, runs_partition: 0, stream_time: "2024-04-05T01:28:54Z" }, { ok: false }],
    [{ schema_version: 1, runs_partition: 0, stream_time: 1, more: 1 }, { ok: false }],
  ])("%o → %o", (value, expected) => {
    expect(decodeWatermark(Buffer.from(JSON.stringify(value)))).toMatchObject(expected);
  });
});

describe("webhook bodies", () => {
  it("are LangSmith's payload with the runs spliced in byte for byte", () => {
    const body = chunkBody(
      head.rule_id,
      head.start_time,
      head.end_time,
      [RUN, RUN2].map((r) => ({ json: Buffer.from(r) })),
    );
    expect(body.toString()).toBe(
      `{"rule_id":"${head.rule_id}","start_time":"${head.start_time}","end_time":"${head.end_time}","runs":[${RUN},${RUN2}]}`,
    );
    expect(body.toString()).toContain(`"total_cost":1.50`); // not re-serialised (1.5)
    const payload = JSON.parse(body.toString()) as Record<string, unknown>;
    expect(Object.keys(payload)).toEqual(["rule_id", "start_time", "end_time", "runs"]);
    expect(WebhookPayload.safeParse(payload).success).toBe(true);
  });
});

describe("JSON spans", () => {
  it("elementSpans gives each element of an array, strings and nesting skipped", () => {
    const t = `{"runs": [ {"a":"],"}, [1,[2]] ,"x\\"" , 3,null ]}`;
    const span = memberSpan(t, "runs")!;
    expect(elementSpans(t, span.start, span.end).map((s) => t.slice(s.start, s.end))).toEqual([
      `{"a":"],"}`,
      "[1,[2]]",
      `"x\\""`,
      "3",
      "null",
    ]);
    expect(elementSpans("[]", 0, 2)).toEqual([]);
    expect(elementSpans("[ ]", 0, 3)).toEqual([]);
  });

  it("memberSpan ignores look-alikes inside strings and nested objects", () => {
    const text = `{"a":"\\"runs\\":[1]","b":{"runs":[2]},"runs":[3, {"runs":4}] }`;
    const span = memberSpan(text, "runs");
    expect(span && text.slice(span.start, span.end)).toBe(`[3, {"runs":4}]`);
    expect(memberSpan(`{"a":1}`, "runs")).toBeUndefined();
    // A string ending in an escaped backslash ends at the quote after it.
    const slashes = JSON.stringify({ a: "x\\", runs: [5], b: '\\"runs":[6]' });
    const s1 = memberSpan(slashes, "runs");
    expect(s1 && slashes.slice(s1.start, s1.end)).toBe(`[5]`);
    const last = `{"x":1,"runs":"str"}`;
    const s2 = memberSpan(last, "runs");
    expect(s2 && last.slice(s2.start, s2.end)).toBe(`"str"`);
  });
});

describe("delivery ids and attempt messages", () => {
  it("delivery ids are stable per (window, webhook)", () => {
    const a = deliveryId(head.part_id, head.rule_id);
    expect(a).toBe(deliveryId(head.part_id, head.rule_id));
    expect(a).not.toBe(deliveryId(head.part_id, head.tenant_id));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // The same ids as the uuid package's v5 (the reference), so ids stored before keep matching.
    for (let i = 0; i < 200; i++) {
      const [w, h] = [randomUUID(), randomUUID()];
      expect(deliveryId(w, h)).toBe(uuidv5(`${w}/${h}`, "0b3f4c52-7a1e-4e55-9f2d-6c1d8a9e2b71"));
    }
  });

  it("attempt messages satisfy the DeliveryAttempt contract", () => {
    const message = attemptMessage({
      deliveryId: deliveryId(head.part_id, head.rule_id),
      windowId: head.part_id,
      ruleId: head.rule_id,
      webhookId: head.tenant_id,
      url: "https://hooks.example.com/in?secret=***",
      attempt: 2,
      trigger: "scheduled",
      startedAt: new Date("2024-04-05T01:28:54.734Z"),
      durationMs: 12.5,
      outcome: "http_5xx",
      statusCode: 503,
      error: null,
      responseExcerpt: "busy",
    });
    expect(DeliveryAttempt.parse(message)).toEqual(message);
  });
});
