/**
 * The delivery queue (migration 003; DESIGN.md §5). Windows are stored once with their webhook body;
 * each becomes one delivery per webhook. Workers claim due deliveries with FOR UPDATE SKIP LOCKED and
 * hold them under a lease; every attempt becomes a `delivery_attempts` row. Every query is batched:
 * one statement per batch, whatever its size. The queries, by concept: delivery-store.ts (windows and
 * new deliveries), delivery-claim.ts, delivery-attempts.ts, delivery-leases.ts, delivery-reaper.ts.
 */

export type DeliveryStatusValue = "pending" | "in_flight" | "succeeded" | "failed" | "skipped" | "cancelled";
export type TriggerValue = "scheduled" | "manual";

/** What every delivery carries, new or claimed. */
export interface DeliveryTarget {
  readonly id: string;
  readonly windowId: string;
  readonly webhookId: string;
  readonly tenantId: string;
  readonly ruleId: string;
  readonly ruleVersion: number;
  /** Redacted. */
  readonly url: string;
  readonly origin: string;
  readonly traceId: string;
}
