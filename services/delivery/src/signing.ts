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

/** The `webhook-signature` header value: `v1,<base64 HMAC-SHA256>`. */
export function signature(key: Buffer, webhookId: string, timestampSeconds: number, body: Buffer): string {
  const mac = createHmac("sha256", key);
  mac.update(`${webhookId}.${timestampSeconds}.`);
  mac.update(body);
  return `v1,${mac.digest("base64")}`;
}
