/**
 * How a delivery process shares itself between tenants. Pure. Lanes (one per origin) keep a slow or
 * dead endpoint from taking every slot; these keep one tenant — a huge backlog, many origins, slow
 * endpoints — from taking every slot or all the room to hold claimed deliveries:
 *
 * - In-flight slots (`tenantSlotCap`, `mayStart`): a freed slot goes first to a tenant under an equal
 *   split of the concurrency among tenants with work, and only then to one over it: a tenant with a
 *   huge backlog or slow endpoints holding every slot gives each freed slot to the others until they
 *   have their part.
 * - Held deliveries (claimed, waiting in lanes or in flight): each tenant holding some may hold at most
 *   an equal part of the held capacity less a room kept free for a tenant not yet holding any
 *   (`tenantHoldCap`): a tenant whose deliveries all wait in the database always finds room for its
 *   next claim.
 */

/**
 * The in-flight slots a tenant may take before the others: an equal split of the process' concurrency
 * among the tenants with work (deliveries in flight or waiting in lanes), rounded up. Slots go first to
 * tenants under it; what they leave is taken by the rest (no slot stays idle while a delivery waits),
 * so the split is max-min fair: a tenant needing less than its part leaves it to the others.
 */
export function tenantSlotCap(concurrency: number, tenantsWithWork: number): number {
  return Math.max(1, Math.ceil(concurrency / Math.max(1, tenantsWithWork)));
}

/**
 * Whether a tenant's next waiting delivery may start now. In the fair round only tenants under their
 * slot cap start; the spare round (after every lane had its fair round) lets anyone use a slot left.
 */
export function mayStart(active: number, cap: number, round: "fair" | "spare"): boolean {
  return round === "spare" || active < cap;
}

/** Part of the held capacity always left to tenants that hold nothing yet. */
export const NEWCOMER_FRACTION = 1 / 8;

/**
 * The most deliveries one tenant may hold, `holding` tenants holding some (itself included):
 * (capacity − newcomers' room) / holding, at least 1.
 */
export function tenantHoldCap(heldCapacity: number, holding: number): number {
  const newcomers = Math.floor(heldCapacity * NEWCOMER_FRACTION);
  return Math.max(1, Math.floor((heldCapacity - newcomers) / Math.max(1, holding)));
}
