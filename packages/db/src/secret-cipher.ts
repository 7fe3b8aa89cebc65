import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

/**
 * AES-256-GCM for the secrets the database holds (webhook URLs, header values, signing secrets).
 * Pure apart from the random IV (passed in by tests). A sealed value names the key that sealed it:
 *
 *   enc:v1:<kid>:<iv>:<ciphertext>:<tag>      (base64url parts; kid: 8 hex characters)
 *
 * so a keyring holding the new key and the old ones reads every value while a rotation re-seals them.
 */

export const SEALED_PREFIX = "enc:v1:";
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface SecretKey {
  /** Derived from the key's bytes: the same key has the same id wherever it is loaded. */
  readonly id: string;
  readonly bytes: Buffer;
}

/** The key that seals (the first one given) and every key that may open. */
export interface SecretKeyring {
  readonly current: SecretKey;
  readonly byId: ReadonlyMap<string, SecretKey>;
}

export type OpenResult =
  | { readonly ok: true; readonly value: string; readonly keyId: string }
  | { readonly ok: false; readonly reason: "malformed" | "unknown_key" | "tampered"; readonly message: string };

export type KeyParse =
  { readonly ok: true; readonly keyring: SecretKeyring } | { readonly ok: false; readonly message: string };

/** The id of a key: a hash of its bytes, never the bytes. */
export function keyIdOf(bytes: Buffer): string {
  return createHash("sha256").update("runhooks-secrets-key-id\0").update(bytes).digest("hex").slice(0, 8);
}

/** A fresh key as written in RUNHOOKS_SECRETS_KEY or the key file: 32 random bytes, base64url. */
export function generateSecretKey(): string {
  return randomBytes(KEY_BYTES).toString("base64url");
}

/**
 * Keys as configured: one or more 32-byte keys in base64 or base64url (44/43 characters) or hex (64),
 * separated by commas or newlines; the first seals, all open. Blank entries and `#` lines are skipped.
 */
export function parseSecretKeys(text: string): KeyParse {
  const entries = text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s !== "" && !s.startsWith("#"));
  if (entries.length === 0) return { ok: false, message: "no key given" };
  const keys: SecretKey[] = [];
  for (const [index, entry] of entries.entries()) {
    const bytes = /^[0-9a-fA-F]{64}$/.test(entry)
      ? Buffer.from(entry, "hex")
      : /^[A-Za-z0-9+/_-]{43}=?$/.test(entry)
        ? Buffer.from(entry.replace(/\+/g, "-").replace(/\//g, "_").replace(/=$/, ""), "base64url")
        : undefined;
    if (bytes?.length !== KEY_BYTES) {
      return { ok: false, message: `key ${index + 1} is not 32 bytes in base64 (43–44 characters) or hex (64)` };
    }
    keys.push({ id: keyIdOf(bytes), bytes });
  }
  return { ok: true, keyring: { current: keys[0]!, byId: new Map(keys.map((k) => [k.id, k])) } };
}

export function isSealed(value: string): boolean {
  return value.startsWith(SEALED_PREFIX);
}

/** Seals `plaintext` under the keyring's current key. */
export function sealSecret(keyring: SecretKeyring, plaintext: string, iv: Buffer = randomBytes(IV_BYTES)): string {
  const cipher = createCipheriv("aes-256-gcm", keyring.current.bytes, iv);
  const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `${SEALED_PREFIX}${keyring.current.id}:${iv.toString("base64url")}:${ct.toString("base64url")}:${tag.toString("base64url")}`;
}

/** Opens a sealed value; the reason says whether the key is missing or the value was altered. */
export function openSecret(keyring: SecretKeyring, sealed: string): OpenResult {
  if (!isSealed(sealed)) return { ok: false, reason: "malformed", message: "is not a sealed value (enc:v1:…)" };
  const parts = sealed.slice(SEALED_PREFIX.length).split(":");
  const [kid, ivText, ctText, tagText] = parts;
  if (
    parts.length !== 4 ||
    kid === undefined ||
    ivText === undefined ||
    ctText === undefined ||
    tagText === undefined
  ) {
    return { ok: false, reason: "malformed", message: "a sealed value has 4 parts after enc:v1: (kid:iv:ct:tag)" };
  }
  const key = keyring.byId.get(kid);
  if (!key) {
    return {
      ok: false,
      reason: "unknown_key",
      message: `sealed under key ${kid}, which is not among the configured keys (${[...keyring.byId.keys()].join(", ")}); add it to RUNHOOKS_SECRETS_KEY or the key file`,
    };
  }
  const iv = Buffer.from(ivText, "base64url");
  const tag = Buffer.from(tagText, "base64url");
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    return {
      ok: false,
      reason: "malformed",
      message: `a sealed value needs a ${IV_BYTES}-byte IV and a ${TAG_BYTES}-byte tag`,
    };
  }
  try {
    const decipher = createDecipheriv("aes-256-gcm", key.bytes, iv);
    decipher.setAuthTag(tag);
    const plain = Buffer.concat([decipher.update(Buffer.from(ctText, "base64url")), decipher.final()]);
    return { ok: true, value: plain.toString("utf8"), keyId: kid };
  } catch {
    return {
      ok: false,
      reason: "tampered",
      message: `failed authentication under key ${kid}: the value was altered or the key is wrong`,
    };
  }
}

/** The key id a sealed value names, or undefined for anything else. */
export function sealedKeyId(value: string): string | undefined {
  if (!isSealed(value)) return undefined;
  return value.slice(SEALED_PREFIX.length).split(":")[0];
}
