import {
  currentRuleVersions,
  disabledWebhooks,
  endUnsent,
  windowPayloads,
  type ClaimedDelivery,
  type Database,
  type UnsentDelivery,
} from "@runhooks/db";
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

/**
 * Loads what claimed deliveries need. Each is sent to its webhook as the rule's current version holds
 * it (a retry, a redelivery or a recovery uses the URL, headers and secret in force now): found by the
 * webhook's id, which is stable across versions. A delivery whose webhook left the rule (or whose rule
 * was deleted) is cancelled, one whose webhook is disabled is skipped: both end without an attempt,
 * their claims' room given back through `release`.
 */
export async function prepareClaimed(
  o: JobSources,
  claimed: readonly ClaimedDelivery[],
  release: (d: ClaimedDelivery) => void,
): Promise<Job[]> {
  if (claimed.length === 0) return [];
  const versions = await currentRuleVersions(
    o.db,
    claimed.map((d) => d.ruleId),
  );
  const disabled = await disabledWebhooks(o.db, claimed);
  const unsent: UnsentDelivery[] = [];
  const send: ClaimedDelivery[] = [];
  for (const d of claimed) {
    const version = versions.get(d.ruleId);
    const target = version === undefined ? undefined : (await o.webhooks.get(d.ruleId, version))?.get(d.webhookId);
    if (target === undefined) unsent.push({ id: d.id, attempt: d.attempt, reason: "webhook_removed" });
    else if (disabled.has(`${d.ruleId}/${d.webhookId}`))
      unsent.push({ id: d.id, attempt: d.attempt, reason: "webhook_disabled" });
    // The attempt is recorded with the URL it goes to; the lane stays the stored origin's (its room was
    // reserved there).
    else send.push(version === d.ruleVersion ? d : { ...d, ruleVersion: version!, url: target.redactedUrl });
  }
  const jobs = await prepareJobs(o, send);
  // Last: if anything above throws, the caller gives back every claim's room, and nothing was ended.
  if (unsent.length > 0) {
    await endUnsent(o.db, unsent);
    const ended = new Set(unsent.map((u) => u.id));
    for (const d of claimed) if (ended.has(d.id)) release(d);
  }
  return jobs;
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
