import { v5 as uuidv5 } from "uuid";

/** Namespace of delivery ids (a fixed random UUID). */
const DELIVERY_NAMESPACE = "0b3f4c52-7a1e-4e55-9f2d-6c1d8a9e2b71";

/**
 * A delivery's id: UUIDv5 of (window id, webhook id). The same window delivered to the same webhook
 * always gets the same id — the `webhook-id` a receiver dedupes on, even if the window is read twice.
 */
export function deliveryId(windowId: string, webhookId: string): string {
  return uuidv5(`${windowId}/${webhookId}`, DELIVERY_NAMESPACE);
}
