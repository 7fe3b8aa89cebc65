import { describe, expect, it } from "vitest";
import { keyIdOf, openSecret, parseSecretKeys, sealSecret, sealedKeyId, type SecretKeyring } from "@runhooks/db";

const hexA = "00".repeat(32);
const b64B = Buffer.alloc(32, 7).toString("base64url");
const b64StdC = Buffer.alloc(32, 9).toString("base64");

function keyring(text: string): SecretKeyring {
  const parsed = parseSecretKeys(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.keyring;
}

const onlyA = keyring(hexA);
const onlyB = keyring(b64B);
const bThenA = keyring(`${b64B},${hexA}`);
const iv = Buffer.alloc(12, 1);

function tamper(sealed: string, part: number): string {
  const parts = sealed.split(":");
  const bytes = Buffer.from(parts[part]!, "base64url");
  bytes[0] = bytes[0]! ^ 1;
  parts[part] = bytes.toString("base64url");
  return parts.join(":");
}

describe("parsing keys", () => {
  it.each([
    { text: hexA, ids: [keyIdOf(Buffer.alloc(32))] },
    { text: b64B, ids: [keyIdOf(Buffer.alloc(32, 7))] },
    { text: b64StdC, ids: [keyIdOf(Buffer.alloc(32, 9))] },
    { text: `# current first\n${b64B}\n\n${hexA}\n`, ids: [keyIdOf(Buffer.alloc(32, 7)), keyIdOf(Buffer.alloc(32))] },
  ])("$text", ({ text, ids }) => {
    const parsed = parseSecretKeys(text);
    expect(parsed.ok && [...parsed.keyring.byId.keys()]).toEqual(ids);
    expect(parsed.ok && parsed.keyring.current.id).toBe(ids[0]);
  });

  it.each([
    { text: "", message: "no key given" },
    { text: "short", message: "key 1 is not 32 bytes" },
    { text: `${hexA},${"ab".repeat(31)}`, message: "key 2 is not 32 bytes" },
  ])("refuses $text", ({ text, message }) => {
    const parsed = parseSecretKeys(text);
    expect(parsed.ok ? "" : parsed.message).toContain(message);
  });
});

describe("sealing and opening", () => {
  const sealedA = sealSecret(onlyA, "whsec_c2VjcmV0LXNpZ25pbmcta2V5", iv);
  const sealedB = sealSecret(bThenA, "Bearer t0ken", iv);

  it.each([
    {
      name: "round trip",
      ring: onlyA,
      value: sealedA,
      expected: { ok: true, value: "whsec_c2VjcmV0LXNpZ25pbmcta2V5" },
    },
    { name: "empty value", ring: onlyA, value: sealSecret(onlyA, "", iv), expected: { ok: true, value: "" } },
    { name: "unicode", ring: onlyB, value: sealSecret(onlyB, "clé ✓", iv), expected: { ok: true, value: "clé ✓" } },
    {
      name: "an old key in the keyring opens",
      ring: bThenA,
      value: sealedA,
      expected: { ok: true, value: "whsec_c2VjcmV0LXNpZ25pbmcta2V5" },
    },
    { name: "the current key seals", ring: onlyB, value: sealedB, expected: { ok: true, value: "Bearer t0ken" } },
    { name: "key not configured", ring: onlyB, value: sealedA, expected: { ok: false, reason: "unknown_key" } },
    {
      name: "tampered ciphertext",
      ring: onlyA,
      value: tamper(sealedA, 4),
      expected: { ok: false, reason: "tampered" },
    },
    { name: "tampered tag", ring: onlyA, value: tamper(sealedA, 5), expected: { ok: false, reason: "tampered" } },
    { name: "tampered IV", ring: onlyA, value: tamper(sealedA, 3), expected: { ok: false, reason: "tampered" } },
    {
      name: "another key under this key's id",
      ring: keyring(hexA.replace("00", "01")),
      value: sealedA.replace(onlyA.current.id, keyIdOf(Buffer.from(hexA.replace("00", "01"), "hex"))),
      expected: { ok: false, reason: "tampered" },
    },
    { name: "plaintext", ring: onlyA, value: "https://example.com/hook", expected: { ok: false, reason: "malformed" } },
    {
      name: "missing part",
      ring: onlyA,
      value: sealedA.split(":").slice(0, 5).join(":"),
      expected: { ok: false, reason: "malformed" },
    },
    {
      name: "short IV",
      ring: onlyA,
      value: sealedA.replace(`:${iv.toString("base64url")}:`, ":AAAA:"),
      expected: { ok: false, reason: "malformed" },
    },
  ])("$name", ({ ring, value, expected }) => {
    expect(openSecret(ring, value)).toMatchObject(expected);
  });

  it("names the key and the configured ones when a key is missing, never the value", () => {
    const result = openSecret(onlyB, sealedA);
    expect(result.ok ? "" : result.message).toContain(onlyA.current.id);
    expect(result.ok ? "" : result.message).toContain(onlyB.current.id);
    expect(result.ok ? "" : result.message).not.toContain("whsec");
  });

  it("gives each value its key id and a fresh IV", () => {
    expect(sealedKeyId(sealedB)).toBe(onlyB.current.id);
    expect(sealedKeyId("plain")).toBeUndefined();
    expect(sealSecret(onlyA, "same")).not.toBe(sealSecret(onlyA, "same"));
    expect(sealedA).toMatch(/^enc:v1:[0-9a-f]{8}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]*:[A-Za-z0-9_-]{22}$/);
  });
});
