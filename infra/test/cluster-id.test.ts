import { describe, expect, it } from "vitest";
import { clusterId } from "../src/cluster-id.js";

describe("clusterId", () => {
  it("is 22 URL-safe base64 characters", () => {
    for (let i = 0; i < 200; i++) expect(clusterId()).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });

  it("draws again when the bytes would encode to a leading '-' (kafka-storage reads it as an option)", () => {
    // 0xf8 → first sextet 62 → "-" in base64url.
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x01)];
    let calls = 0;
    const id = clusterId(() => draws[calls++]!);
    expect(calls).toBe(3);
    expect(id).toBe(Buffer.alloc(16, 0x01).toString("base64url"));
  });
});
