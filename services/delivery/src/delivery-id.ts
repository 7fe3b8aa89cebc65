import { createHash } from "node:crypto";

/** Namespace of delivery ids (a fixed random UUID). */
const DELIVERY_NAMESPACE = "0b3f4c52-7a1e-4e55-9f2d-6c1d8a9e2b71";
const NAMESPACE_BYTES = Buffer.from(DELIVERY_NAMESPACE.replaceAll("-", ""), "hex");

/**
 * A delivery's id: UUIDv5 (RFC 9562) of (window id, webhook id). The same window delivered to the same
 * webhook always gets the same id — the `webhook-id` a receiver dedupes on, even if the window is read
 * twice. Computed with node:crypto directly: the `uuid` package's v5 cost several µs per delivery.
 */
export function deliveryId(windowId: string, webhookId: string): string {
  const hash = createHash("sha1").update(NAMESPACE_BYTES).update(`${windowId}/${webhookId}`, "utf8").digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50; // version 5
  hash[8] = (hash[8]! & 0x3f) | 0x80; // RFC 9562 variant
  const hex = hash.toString("hex", 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
