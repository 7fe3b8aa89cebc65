import { createHmac } from "node:crypto";

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): the key is the base64 part of a
 * `whsec_` secret; the signed content is `<webhook-id>.<webhook-timestamp>.<body>`. Pure.
 */

const PREFIX = "whsec_";

/** The key bytes of a `whsec_<base64>` secret (a secret without the prefix is taken as base64 too). */
export function signingKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, "base64");
}

/**
 * The keys a request made at `timestampSeconds` is signed with: the webhook's key, and during a
 * rotation's overlap the previous one too (until its end, excluded).
 */
export function signingKeysAt(
  target: {
    readonly signingKey: Buffer | undefined;
    readonly previousSigningKey?: { readonly key: Buffer; readonly untilSeconds: number } | undefined;
  },
  timestampSeconds: number,
): Buffer[] {
  const keys: Buffer[] = [];
  if (target.signingKey !== undefined) keys.push(target.signingKey);
  const previous = target.previousSigningKey;
  if (previous !== undefined && timestampSeconds < previous.untilSeconds) keys.push(previous.key);
  return keys;
}

/**
 * The `webhook-signature` header value for several keys: their signatures separated by spaces, as
 * Standard Webhooks allows (a receiver accepts the request when any of them verifies).
 */
export function signatures(keys: readonly Buffer[], webhookId: string, timestampSeconds: number, body: Buffer): string {
  return keys.map((key) => signature(key, webhookId, timestampSeconds, body)).join(" ");
}

/** The `webhook-signature` header value: `v1,<base64 HMAC-SHA256>`. */
export function signature(key: Buffer, webhookId: string, timestampSeconds: number, body: Buffer): string {
  const mac = createHmac("sha256", key);
  mac.update(`${webhookId}.${timestampSeconds}.`);
  mac.update(body);
  return `v1,${mac.digest("base64")}`;
}
