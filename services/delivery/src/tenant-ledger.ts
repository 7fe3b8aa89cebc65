import { mayStart, tenantHoldCap, tenantSlotCap } from "./tenant-shares.js";

/**
 * What each tenant has in this process — deliveries held (claimed or reserved: waiting in lanes or in
 * flight), waiting in lanes, in flight — and what that allows it by the rules of tenant-shares.ts.
 * Tenants with nothing are forgotten.
 */
export interface TenantLedger {
  hold(tenant: string, n?: number): void;
  unhold(tenant: string, n?: number): void;
  /** A delivery of the tenant waits in a lane (+1) or left it (−1). */
  queued(tenant: string, n: number): void;
  /** One of its deliveries starts (it leaves its lane). */
  started(tenant: string): void;
  ended(tenant: string): void;
  /** Whether its next waiting delivery may take a free slot in this round. */
  mayStart(tenant: string, round: "fair" | "spare"): boolean;
  /** Whether it may hold one more (the window reader's reservation). */
  mayHold(tenant: string): boolean;
  /** How many more each holding tenant may claim, and what a tenant holding nothing may. */
  claimRoom(): { readonly rooms: Map<string, number>; readonly newcomer: number };
}

interface Counts {
  held: number;
  waiting: number;
  active: number;
}

export function createTenantLedger(concurrency: number, heldCapacity: number): TenantLedger {
  const tenants = new Map<string, Counts>();
  let withWork = 0;
  let holding = 0;
  const of = (tenant: string): Counts => {
    let c = tenants.get(tenant);
    if (c === undefined) {
      c = { held: 0, waiting: 0, active: 0 };
      tenants.set(tenant, c);
    }
    return c;
  };
  /** Applies a change, keeping the counts of tenants with work and holding. */
  const change = (tenant: string, f: (c: Counts) => void) => {
    const c = of(tenant);
    const hadWork = c.waiting + c.active > 0;
    const held = c.held > 0;
    f(c);
    withWork += Number(c.waiting + c.active > 0) - Number(hadWork);
    holding += Number(c.held > 0) - Number(held);
    if (c.held <= 0 && c.waiting <= 0 && c.active <= 0) tenants.delete(tenant);
  };
  return {
    hold: (t, n = 1) => change(t, (c) => (c.held += n)),
    unhold: (t, n = 1) => change(t, (c) => (c.held -= n)),
    queued: (t, n) => change(t, (c) => (c.waiting += n)),
    started: (t) =>
      change(t, (c) => {
        c.waiting--;
        c.active++;
      }),
    ended: (t) => change(t, (c) => c.active--),
    mayStart: (t, round) => mayStart(tenants.get(t)?.active ?? 0, tenantSlotCap(concurrency, withWork), round),
    mayHold(t) {
      const held = tenants.get(t)?.held ?? 0;
      return held < tenantHoldCap(heldCapacity, holding + (held > 0 ? 0 : 1));
    },
    claimRoom() {
      const cap = tenantHoldCap(heldCapacity, holding);
      const rooms = new Map<string, number>();
      for (const [t, c] of tenants) if (c.held > 0) rooms.set(t, Math.max(0, cap - c.held));
      return { rooms, newcomer: tenantHoldCap(heldCapacity, holding + 1) };
    },
  };
}
