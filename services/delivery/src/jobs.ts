import { windowPayloads, type ClaimedDelivery, type Database } from "@runhooks/db";
import type { PayloadCache, WindowBody } from "./payload-cache.js";
import type { Target } from "./target.js";
import type { WebhookCache } from "./webhook-cache.js";

/** A claimed delivery with what sending it needs: its webhook and its window's body. */
export interface Job {
  readonly delivery: ClaimedDelivery;
  /** Undefined when the rule version is gone from the store. */
  readonly target: Target | undefined;
  /** Undefined when the window's body is gone from the store. */
  readonly body: WindowBody | undefined;
  /** When this process took it (ms, monotonic): only deliveries held a while need their leases renewed. */
  readonly heldSince: number;
}

export interface JobSources {
  readonly db: Database;
  readonly webhooks: WebhookCache;
  readonly payloads: PayloadCache;
}

/** Loads what the claimed deliveries need: bodies not cached in one query, webhooks from their cache. */
export async function prepareJobs(o: JobSources, claimed: readonly ClaimedDelivery[]): Promise<Job[]> {
  const missing = [...new Set(claimed.filter((d) => o.payloads.get(d.windowId) === undefined).map((d) => d.windowId))];
  const loaded = await windowPayloads(o.db, missing);
  const bodies = new Map<string, WindowBody>();
  for (const [windowId, { payload, chunkIndex, chunkCount, backfillId }] of loaded) {
    const body = { body: Buffer.from(payload), chunkIndex, chunkCount, backfillId };
    bodies.set(windowId, body);
    o.payloads.set(windowId, body);
  }
  const jobs: Job[] = [];
  for (const delivery of claimed) {
    const set = await o.webhooks.get(delivery.ruleId, delivery.ruleVersion);
    const body = bodies.get(delivery.windowId) ?? o.payloads.get(delivery.windowId);
    jobs.push({ delivery, target: set?.get(delivery.webhookId), body, heldSince: performance.now() });
  }
  return jobs;
}
