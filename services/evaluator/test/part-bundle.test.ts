import { describe, expect, it } from "vitest";
import { Run, WindowPartBundle } from "@runhooks/contracts";
import { decodeWindowsMessage, windowPartJson } from "@runhooks/delivery";
import { MAX_WINDOW_BYTES, windowId, type AssemblePart, type ClosedPart, type WindowRun } from "@runhooks/rules";
import { createKafka, joinSlices, valueSlices } from "@runhooks/kafka";
import { bundleParts, BUNDLE_BYTES, type BundlePart, type BundleSlices } from "../src/part-bundle.js";
import { partMessageValue, windowMessages, type PendingPart } from "../src/part-message.js";
import { mulberry32 } from "../../../test/support/random.js";

const TENANT = "8e3b0f4a-6c5d-4a9e-8b1f-4d5e6f708192";
const RULES = [
  "9f4c1a5b-7d6e-4b0f-9c2a-5e6f70819203",
  "0a4c1a5b-7d6e-4b0f-9c2a-5e6f70819204",
  "1b4c1a5b-7d6e-4b0f-9c2a-5e6f70819205",
];
const TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const encoder = new TextEncoder();

/** A run as read: its JSON spelled as its producer wrote it (spaces, key order, multi-byte text). */
function run(n: number, pad = 0): WindowRun {
  const id = `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
  const text =
    `{ "id" : "${id}", "name":"Sök ✓ 🙂", "run_type":"llm", "start_time":"2024-04-05T01:28:54Z",` +
    ` "end_time":"2024-04-05T01:28:55Z", "tenant_id":"${TENANT}", "pad":"${"x".repeat(pad)}", "n": 1.50 }`;
  return { offset: n, runId: id, json: encoder.encode(text), time: 1_765_000_000_000 + n };
}

function part(rule: number, startMs: number, runs: WindowRun[], piece = 0, partition = 3): ClosedPart {
  const ruleId = RULES[rule]!;
  return {
    partId: windowId({ ruleId, ruleVersion: 1, partition, startMs, chunk: piece }),
    ruleId,
    ruleVersion: 1,
    tenantId: TENANT,
    maxRuns: 100,
    partition,
    piece,
    startMs,
    endMs: startMs + 5000,
    runs,
    reason: "time",
    closedAt: 7,
  };
}

const whole = (b: BundleSlices) => joinSlices(b).toString("utf8");
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8");

/** What delivery reads of a part message: the shared decoder, on a single part's value. */
function singlePartRead(p: ClosedPart) {
  const m = decodeWindowsMessage({ value: joinSliced(partMessageValue(p)), headers: { "runhooks-kind": "part" } });
  if (m.kind !== "parts") throw new Error(m.kind === "invalid" ? m.error : m.kind);
  return m.parts.map((x) => ({ part: comparable(x.part), json: windowPartJson(x.head, x.part.runs).toString() }));
}

/** What delivery reads of a bundle, each part with its trace context and as a single WindowPart message. */
function bundleRead(b: BundleSlices) {
  const m = decodeWindowsMessage({ value: joinSlices(b), headers: { "runhooks-kind": "parts" } });
  if (m.kind !== "parts") throw new Error(m.kind === "invalid" ? m.error : m.kind);
  expect(m.bundled).toBe(true);
  return m.parts.map((x) => ({
    part: comparable(x.part),
    traceparent: x.traceparent,
    json: windowPartJson(x.head, x.part.runs).toString(),
  }));
}

/** A part as read, its runs' bytes as text (a deep comparison of byte arrays goes byte by byte). */
const comparable = (p: AssemblePart) => ({ ...p, runs: p.runs.map((r) => ({ ...r, json: text(r.json) })) });

const joinSliced = (v: Buffer) => {
  const s = valueSlices(v);
  return s === undefined ? v : joinSlices(s);
};

describe("bundling a flush's parts", () => {
  const a = run(1);
  const b = run(2);
  const c = run(3);

  it("carries each run once, its parts naming them in their order, and is a WindowPartBundle", () => {
    const parts: BundlePart[] = [
      { part: part(0, 10_000, [a, b]), traceparent: TRACE },
      { part: part(1, 10_000, [b, c]), traceparent: undefined },
      { part: part(2, 15_000, [a, c], 1), traceparent: undefined },
    ];
    const [bundle, ...more] = bundleParts(parts, 3);
    expect(more).toEqual([]);
    // The runs are the very bytes the fold read, once each, after the head.
    const runs = bundle!.shared.filter((s) => s.byteLength > 2);
    expect(runs).toHaveLength(3);
    expect(runs[0]).toBe(a.json);
    expect(runs[1]).toBe(b.json);
    expect(runs[2]).toBe(c.json);
    const value = JSON.parse(whole(bundle!)) as WindowPartBundle;
    expect(WindowPartBundle.parse(value)).toEqual(value);
    expect(value.parts.map((p) => [p.part_id, p.run_refs, p.traceparent])).toEqual([
      [parts[0]!.part.partId, [0, 1], TRACE],
      [parts[1]!.part.partId, [1, 2], undefined],
      [parts[2]!.part.partId, [0, 2], undefined],
    ]);
    expect(value.run_times).toEqual([a.time, b.time, c.time]);
    expect(whole(bundle!).endsWith(`"runs":[${text(a.json)},${text(b.json)},${text(c.json)}]}`)).toBe(true);
    expect(bundle!.parts).toBe(3);
    expect(bundle!.bytes).toBe(Buffer.byteLength(whole(bundle!)));
  });

  it("expands into exactly the parts their single messages give, runs byte for byte", () => {
    const parts: BundlePart[] = [
      { part: part(0, 10_000, [a, b]), traceparent: TRACE },
      { part: part(1, 10_000, [c]), traceparent: undefined },
    ];
    const read = bundleRead(bundleParts(parts, 3)[0]!);
    expect(read.map((r) => r.traceparent)).toEqual([TRACE, undefined]);
    expect(read.map((r) => ({ part: r.part, json: r.json }))).toEqual(parts.flatMap((p) => singlePartRead(p.part)));
    expect(read.map((r) => r.json)).toEqual(parts.map((p) => joinSliced(partMessageValue(p.part)).toString()));
  });

  it("carries a run read at two stream times once per time", () => {
    const later = { ...a, time: a.time + 5 };
    const [bundle] = bundleParts(
      [
        { part: part(0, 10_000, [a]), traceparent: undefined },
        { part: part(1, 10_000, [later]), traceparent: undefined },
      ],
      3,
    );
    const value = WindowPartBundle.parse(JSON.parse(whole(bundle!)));
    expect(value.run_times).toEqual([a.time, later.time]);
    expect(value.parts.map((p) => p.run_refs)).toEqual([[0], [1]]);
  });

  // Each run is 1,000 bytes of padding and ~90 of the rest; a part's entry ~330 bytes.
  const big = Array.from({ length: 8 }, (_, i) => run(100 + i, 1000));
  it.each<[string, ClosedPart[], number, number[]]>([
    ["all fit", [part(0, 0, big.slice(0, 2)), part(1, 0, big.slice(0, 2))], 10_000, [2]],
    [
      "a shared run costs nothing the second time",
      [part(0, 0, big.slice(0, 3)), part(1, 0, big.slice(0, 3)), part(2, 0, big.slice(0, 3))],
      5_500,
      [3],
    ],
    [
      "cut when the next part's new runs pass the limit",
      [part(0, 0, big.slice(0, 3)), part(1, 0, big.slice(3, 6))],
      5_000,
      [1, 1],
    ],
    [
      "a part alone over the limit makes its own bundle",
      [part(0, 0, big.slice(0, 1)), part(1, 0, big), part(2, 0, big.slice(0, 1))],
      3_000,
      [1, 1, 1],
    ],
    [
      "a new bundle carries the runs it needs again",
      [part(0, 0, big.slice(0, 3)), part(1, 0, big.slice(3, 6)), part(2, 0, big.slice(0, 6))],
      5_000,
      [1, 1, 1],
    ],
  ])("%s", (_name, closed, maxBytes, sizes) => {
    const bundles = bundleParts(
      closed.map((p) => ({ part: p, traceparent: undefined })),
      3,
      maxBytes,
    );
    expect(bundles.map((b) => b.parts)).toEqual(sizes);
    for (const b of bundles) {
      expect(b.bytes).toBe(Buffer.byteLength(whole(b)));
      if (b.parts > 1) expect(b.bytes).toBeLessThanOrEqual(maxBytes);
      const value = WindowPartBundle.parse(JSON.parse(whole(b)));
      expect(new Set(value.runs.map((r) => r.id)).size).toBe(value.runs.length);
    }
    const read = bundles.flatMap(bundleRead);
    expect(read.map((r) => r.json)).toEqual(closed.map((p) => joinSliced(partMessageValue(p)).toString()));
  });

  it("differs from single part messages in nothing delivery reads: random parts, random limits", () => {
    const random = mulberry32(22);
    const pick = (n: number) => Math.floor(random() * n);
    for (let round = 0; round < 100; round++) {
      const pool = Array.from({ length: 1 + pick(30) }, (_, i) => run(round * 100 + i, pick(1500)));
      const closed = Array.from({ length: 1 + pick(40) }, (_, i) => {
        const runs = pool.filter(() => random() < 0.3);
        return part(pick(3), 5000 * pick(4), runs.length > 0 ? runs : [pool[pick(pool.length)]!], i);
      });
      const traces = closed.map(() => (random() < 0.5 ? TRACE : undefined));
      const maxBytes = random() < 0.2 ? BUNDLE_BYTES : 500 + pick(40_000);
      const bundles = bundleParts(
        closed.map((p, i) => ({ part: p, traceparent: traces[i] })),
        3,
        maxBytes,
      );
      for (const b of bundles) {
        if (b.parts > 1) expect(b.bytes).toBeLessThanOrEqual(maxBytes);
        // Each run once per bundle.
        const shared = b.shared.filter((s) => s.byteLength > 2);
        expect(new Set(shared).size).toBe(shared.length);
      }
      const read = bundles.flatMap(bundleRead);
      expect(read.map((r) => r.traceparent)).toEqual(traces);
      expect(read.map((r) => ({ part: r.part, json: r.json }))).toEqual(closed.flatMap(singlePartRead));
    }
  });
});

describe("a cut's parts as windows-topic messages", () => {
  it("bundles per windows partition, in order; a part of an unknown partition goes alone, keyed by its rule", () => {
    createKafka({ brokers: ["127.0.0.1:1"], clientId: "bundles" });
    const r = [run(1), run(2)];
    const pending: PendingPart[] = [
      { part: part(0, 0, r), traceparent: TRACE, windowsPartition: 1 },
      { part: part(1, 0, r), traceparent: undefined, windowsPartition: 0 },
      { part: part(2, 0, r), traceparent: TRACE, windowsPartition: undefined },
      { part: part(2, 5000, r), traceparent: undefined, windowsPartition: 1 },
    ];
    const messages = windowMessages(pending);
    expect(messages.map((m) => [m.partition, m.key, m.headers])).toEqual([
      [
        undefined,
        RULES[2],
        { "runhooks-kind": "part", "runhooks-part-id": pending[2]!.part.partId, traceparent: TRACE },
      ],
      [1, undefined, { "runhooks-kind": "parts" }],
      [0, undefined, { "runhooks-kind": "parts" }],
    ]);
    const ids = messages.map((m) => {
      const d = decodeWindowsMessage({
        value: joinSliced(m.value as Buffer),
        headers: m.headers,
      });
      return d.kind === "parts" ? d.parts.map((p) => p.part.partId) : [];
    });
    expect(ids).toEqual([
      [pending[2]!.part.partId],
      [pending[0]!.part.partId, pending[3]!.part.partId],
      [pending[1]!.part.partId],
    ]);
    // Sliced: each run the fold's own bytes, once per bundle.
    expect(valueSlices(messages[1]!.value)!.shared.filter((s) => s.byteLength > 2)).toEqual(r.map((x) => x.json));
  });

  it("with bundles off (RUNHOOKS_WINDOWS_BUNDLES=false), sends every part alone, keyed by its rule, in order", () => {
    createKafka({ brokers: ["127.0.0.1:1"], clientId: "bundles" });
    const r = [run(1), run(2)];
    const pending: PendingPart[] = [
      { part: part(0, 0, r), traceparent: TRACE, windowsPartition: 1 },
      { part: part(1, 0, r), traceparent: undefined, windowsPartition: 0 },
      { part: part(2, 5000, r), traceparent: undefined, windowsPartition: undefined },
    ];
    const messages = windowMessages(pending, false);
    expect(messages.map((m) => [m.key, m.headers?.["runhooks-kind"], m.headers?.traceparent])).toEqual([
      [RULES[0], "part", TRACE],
      [RULES[1], "part", undefined],
      [RULES[2], "part", undefined],
    ]);
    const decoded = messages.map((m) =>
      decodeWindowsMessage({ value: joinSliced(m.value as Buffer), headers: m.headers }),
    );
    expect(decoded.map((d) => (d.kind === "parts" ? [d.bundled, d.parts[0]!.part.partId] : d.kind))).toEqual(
      pending.map((p) => [false, p.part.partId]),
    );
  });
});

/** The broker's default `message.max.bytes`: the largest record batch it takes. */
const BROKER_BATCH_LIMIT = 1_048_588;

describe("a lone part at its largest", () => {
  it("bundles under the broker's record batch limit, uncompressed, with minimal runs of ~150 B", () => {
    const runs: WindowRun[] = [];
    let bytes = 0;
    for (let n = 0; ; n++) {
      const id = `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
      const json = encoder.encode(
        `{"id":"${id}","name":"n","run_type":"llm","start_time":"2024-04-05T01:28:54Z","tenant_id":"${TENANT}"}`,
      );
      if (bytes + json.byteLength > MAX_WINDOW_BYTES) break;
      bytes += json.byteLength;
      runs.push({ offset: n, runId: id, json, time: 1_765_000_000_000 + n });
    }
    expect(runs[0]!.json.byteLength).toBeGreaterThanOrEqual(140);
    expect(runs[0]!.json.byteLength).toBeLessThanOrEqual(160);
    expect(Run.safeParse(JSON.parse(text(runs[0]!.json))).success).toBe(true);
    const bundles = bundleParts([{ part: part(0, 0, runs), traceparent: TRACE }], 3);
    expect(bundles).toHaveLength(1);
    const size = joinSlices(bundles[0]!).length;
    // The bound DESIGN.md §2 states: 768 KiB of runs and ~21 bytes a run of refs, times and commas.
    expect(size).toBeLessThan(900 * 1024);
    // A record batch holds the value, its key and headers (a few hundred bytes) and ~61 bytes of framing.
    expect(size + 1024).toBeLessThan(BROKER_BATCH_LIMIT);
  });
});
