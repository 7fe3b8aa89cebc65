import { webhooksOfRuleVersion, type Database } from "@runhooks/db";
import { toTarget, type Target } from "./target.js";

/** The webhooks of a rule version, ready to send to; undefined when the version is unknown. */
export type WebhookSet = ReadonlyMap<string, Target>;

export interface WebhookCache {
  get(ruleId: string, version: number): Promise<WebhookSet | undefined>;
}

/**
 * Rule versions are immutable (rule_events is append-only), so a version's webhooks are cached for
 * good, up to `maxEntries` versions (oldest dropped first). Concurrent misses share one query.
 */
export function createWebhookCache(db: Database, maxEntries = 10_000): WebhookCache {
  const known = new Map<string, WebhookSet>();
  const loading = new Map<string, Promise<WebhookSet | undefined>>();
  return {
    get(ruleId, version) {
      const key = `${ruleId}/${version}`;
      const hit = known.get(key);
      if (hit) return Promise.resolve(hit);
      let pending = loading.get(key);
      if (!pending) {
        pending = webhooksOfRuleVersion(db, ruleId, version)
          .then((webhooks) => {
            if (webhooks === undefined) return undefined;
            const set: WebhookSet = new Map(webhooks.map((w) => [w.id, toTarget(w)]));
            if (known.size >= maxEntries) known.delete(known.keys().next().value!);
            known.set(key, set);
            return set;
          })
          .finally(() => loading.delete(key));
        loading.set(key, pending);
      }
      return pending;
    },
  };
}
