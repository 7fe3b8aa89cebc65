import type { AttemptOutcome, OperationalEvent } from "@runhooks/contracts";
import { SCHEMA_VERSION } from "@runhooks/contracts";
import {
  lockWebhookHealth,
  saveWebhookHealth,
  webhookHealthOf,
  type Database,
  type WebhookHealthRecord,
} from "@runhooks/db";
import type { Logger } from "@runhooks/telemetry";
import { NEW_HEALTH, healthAfter, type DisableThreshold, type Health } from "./health-decision.js";
import type { FailureReason } from "./policy.js";

/** A delivery that ended, as the recorder applied it. */
export interface EndedDelivery {
  readonly deliveryId: string;
  readonly windowId: string;
  readonly tenantId: string;
  readonly ruleId: string;
  readonly webhookId: string;
  readonly attempt: number;
  readonly outcome: AttemptOutcome;
  readonly ended: "succeeded" | "failed";
  readonly reason: FailureReason | undefined;
  /** When it ended (ms since the epoch). */
  readonly at: number;
}

export interface EventSink {
  /** Best effort: an event that cannot be produced is logged. */
  emit(events: readonly OperationalEvent[]): Promise<void>;
}

export interface HealthKeeper {
  /** Folds ended deliveries into their webhooks' health, then emits what changed. */
  note(ended: readonly EndedDelivery[]): Promise<void>;
}

/** A healthy webhook's row is rewritten for a success at most this often (a write per batch otherwise). */
const SUCCESS_NOTE_MS = 10_000;

/**
 * Loads, decides (health-decision.ts), persists: the rows of a batch's webhooks are locked, folded over
 * its ended deliveries in order and saved in one transaction, so processes that end deliveries of the
 * same webhook count each one once. A batch of successes to webhooks already healthy, noted recently,
 * writes nothing.
 */
export function createHealthKeeper(o: {
  readonly db: Database;
  readonly threshold: DisableThreshold;
  readonly events: EventSink;
  readonly log: Logger;
}): HealthKeeper {
  return {
    async note(ended) {
      if (ended.length === 0) return;
      const keys = [...new Map(ended.map((e) => [`${e.ruleId}/${e.webhookId}`, e])).values()];
      const events: OperationalEvent[] = ended.filter((e) => e.ended === "failed").map(exhausted);
      const now = Math.max(...ended.map((e) => e.at));
      if (ended.every((e) => e.ended === "succeeded")) {
        const rows = await webhookHealthOf(o.db, keys);
        const fresh = new Set(
          rows
            .filter((r) => r.state === "healthy" && (r.lastSuccessAt?.getTime() ?? 0) > now - SUCCESS_NOTE_MS)
            .map((r) => `${r.ruleId}/${r.webhookId}`),
        );
        if (keys.every((k) => fresh.has(`${k.ruleId}/${k.webhookId}`))) return;
      }
      await o.db.tx(async (tx) => {
        const rows = new Map((await lockWebhookHealth(tx, keys)).map((r) => [`${r.ruleId}/${r.webhookId}`, r]));
        const next = new Map<string, { tenantId: string; health: Health }>();
        for (const e of ended) {
          const key = `${e.ruleId}/${e.webhookId}`;
          const before = next.get(key)?.health ?? healthOf(rows.get(key));
          const { health, change } = healthAfter(before, e.ended, e.at, o.threshold);
          next.set(key, { tenantId: e.tenantId, health });
          if (change?.kind === "disabled") {
            events.push({
              ...about(e),
              type: "webhook.disabled",
              consecutive_failures: change.consecutiveFailures,
              last_success_at: change.lastSuccessAt === null ? null : new Date(change.lastSuccessAt).toISOString(),
            });
            o.log("warn", "webhook disabled", {
              ruleId: e.ruleId,
              webhookId: e.webhookId,
              failures: change.consecutiveFailures,
            });
          } else if (change?.kind === "recovered") {
            events.push({ ...about(e), type: "webhook.recovered", after_failures: change.afterFailures });
          }
        }
        await saveWebhookHealth(
          tx,
          [...next].map(([key, { tenantId, health }]) => toRecord(key, tenantId, health)),
        );
      });
      await o.events.emit(events);
    },
  };
}

function about(e: EndedDelivery) {
  return {
    schema_version: SCHEMA_VERSION,
    occurred_at: new Date(e.at).toISOString(),
    tenant_id: e.tenantId,
    rule_id: e.ruleId,
    webhook_id: e.webhookId,
  };
}

function exhausted(e: EndedDelivery): OperationalEvent {
  return {
    ...about(e),
    type: "delivery.exhausted",
    delivery_id: e.deliveryId,
    window_id: e.windowId,
    attempts: e.attempt,
    last_outcome: e.outcome,
    reason: e.reason ?? "not_retriable",
  };
}

const ms = (d: Date | null) => (d === null ? null : d.getTime());
const date = (n: number | null) => (n === null ? null : new Date(n));

function healthOf(r: WebhookHealthRecord | undefined): Health {
  if (r === undefined) return NEW_HEALTH;
  return {
    state: r.state,
    consecutiveFailures: r.consecutiveFailures,
    failingSince: ms(r.failingSince),
    lastSuccessAt: ms(r.lastSuccessAt),
    lastFailureAt: ms(r.lastFailureAt),
    disabledAt: ms(r.disabledAt),
  };
}

function toRecord(key: string, tenantId: string, h: Health): WebhookHealthRecord {
  const [ruleId, webhookId] = key.split("/") as [string, string];
  return {
    ruleId,
    webhookId,
    tenantId,
    state: h.state,
    consecutiveFailures: h.consecutiveFailures,
    failingSince: date(h.failingSince),
    lastSuccessAt: date(h.lastSuccessAt),
    lastFailureAt: date(h.lastFailureAt),
    disabledAt: date(h.disabledAt),
  };
}
