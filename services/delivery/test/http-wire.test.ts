import { describe, expect, it } from "vitest";
import {
  arrivedTarget,
  crossingTarget,
  packRequests,
  packResults,
  unpackRequests,
  unpackResults,
} from "../src/http-wire.js";
import { toTarget, type Target } from "../src/target.js";
import type { AttemptResult } from "../src/attempt-result.js";

describe("what crosses to the HTTP thread", () => {
  it("gives back every attempt as it was packed: target, ids, numbers and body bytes", () => {
    const signed = toTarget({
      id: "00000000-0000-4000-8000-000000000001",
      url: "https://a.example/h?secret=x",
      headers: { "x-k": "v" },
      signing_secret: "whsec_c2VjcmV0LWtleS1ieXRlcw==",
    });
    const plain = toTarget({ id: "00000000-0000-4000-8000-000000000002", url: "https://b.example/" });
    const attempts = [signed, plain, signed, plain, signed].map((target, i) => ({
      id: 4_000_000_000 + i,
      targetKey: target === signed ? 7 : 8,
      request: {
        target,
        deliveryId: `7f0c1a52-8f3e-5b8a-9c1d-${String(i).padStart(12, "0")}`,
        attempt: 1 + i,
        timestampSeconds: 1_795_000_000 + i,
        traceparent: `00-${"a".repeat(31)}${i}-${"b".repeat(16)}-01`,
        chunkIndex: i,
        chunkCount: 5 + i,
        body: Buffer.from(i === 1 ? "" : `{"i":${i},"t":"é🙂"}`),
      },
    }));
    const { batch, transfer } = packRequests(attempts, [crossingTarget(7, signed), crossingTarget(8, plain)]);
    expect(transfer).toHaveLength(3);
    // As the thread sees it: cloned (the signing key arrives as a plain Uint8Array).
    const arrived = structuredClone(batch);
    const targets = new Map<number, Target>(arrived.targets.map((t) => [t.key, arrivedTarget(t)]));
    expect(targets.get(7)).toEqual(signed);
    expect(Buffer.isBuffer(targets.get(7)!.signingKey)).toBe(true);
    const unpacked = unpackRequests(arrived, targets);
    expect(unpacked.map((u) => u.id)).toEqual(attempts.map((a) => a.id));
    unpacked.forEach((u, i) => {
      const { body, target, ...rest } = u.request;
      const { body: sentBody, target: sentTarget, ...sent } = attempts[i]!.request;
      expect(rest).toEqual(sent);
      expect(target).toEqual(sentTarget);
      expect(body.equals(sentBody)).toBe(true);
    });
    expect(() => unpackRequests(arrived, new Map())).toThrow(/does not know target/);
  });

  it("gives back every result kind, null and multi-byte excerpts included", () => {
    const results: { id: number; result: AttemptResult }[] = [
      { id: 1, result: { kind: "response", statusCode: 200, excerpt: "ok" } },
      { id: 2, result: { kind: "response", statusCode: 204, excerpt: null } },
      { id: 3, result: { kind: "response", statusCode: 500, excerpt: "é🙂\nline" } },
      { id: 8, result: { kind: "response", statusCode: 429, excerpt: null, retryAfterMs: 7000 } },
      { id: 9, result: { kind: "response", statusCode: 503, excerpt: "later", retryAfterMs: 0 } },
      { id: 4, result: { kind: "connect_error", error: "ECONNREFUSED: connect" } },
      { id: 5, result: { kind: "timeout", error: "no response within 5000 ms" } },
      { id: 6, result: { kind: "ssrf_blocked", error: "10.0.0.1 is a private address" } },
      { id: 7, result: { kind: "invalid_response", error: "HPE_INVALID_CONSTANT: Expected HTTP/" } },
      { id: 4_294_967_295, result: { kind: "request_failed", error: "UND_ERR_INVALID_ARG: invalid header" } },
    ];
    expect(unpackResults(structuredClone(packResults(results).batch))).toEqual(results);
    expect(unpackResults(packResults([]).batch)).toEqual([]);
  });
});
