/**
 * How a delivery process shares itself between tenants. Pure. Lanes (one per origin) keep a slow or
 * dead endpoint from taking every slot; these keep one tenant — a huge backlog, many origins, slow
 * endpoints — from taking every slot or all the room to hold claimed deliveries:
 *
 * - In-flight slots: max-min fair (`fairShares`). Each tenant with deliveries ready to start gets an
 *   equal share of the process' concurrency; a tenant needing less than its share leaves the rest to
 *   the others. A tenant at its share starts nothing more until it drops below it (a slot it frees
 *   goes to another tenant first).
 * - Held deliveries (claimed, waiting in lanes or in flight): each tenant holding some may hold at most
 *   an equal part of the held capacity less a room kept free for a tenant not yet holding any
 *   (`tenantHoldCap`): a tenant whose deliveries all wait in the database always finds room for its
 *   next claim.
 */

/**
 * Max-min fair integer shares of `capacity` among demands (water-filling). Every tenant gets
 * min(demand, level); what is left of the level's rounding goes one by one to the tenants that want
 * more, in order of name (deterministic). The shares sum to min(capacity, total demand).
 */
export function fairShares(demand: ReadonlyMap<string, number>, capacity: number): Map<string, number> {
  const shares = new Map<string, number>();
  const wanting = [...demand].filter(([, d]) => d > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [tenant] of demand) shares.set(tenant, 0);
  let left = Math.max(0, Math.floor(capacity));
  // Smallest demands first: each takes all it wants if that is within an equal split of what is left.
  const bySize = [...wanting].sort(([, a], [, b]) => a - b);
  let i = 0;
  for (; i < bySize.length; i++) {
    const [tenant, d] = bySize[i]!;
    const equal = Math.floor(left / (bySize.length - i));
    if (d > equal) break;
    shares.set(tenant, d);
    left -= d;
  }
  const rest = bySize.slice(i).map(([tenant]) => tenant).sort();
  if (rest.length === 0) return shares;
  const level = Math.floor(left / rest.length);
  let extra = left - level * rest.length;
  for (const tenant of rest) {
    shares.set(tenant, level + (extra > 0 ? 1 : 0));
    if (extra > 0) extra--;
  }
  return shares;
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
