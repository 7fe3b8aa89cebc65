import type { NewDelivery, NewWindow } from "@runhooks/db";
import type { AttemptObserver } from "./attempt-observer.js";
import { deliveryId } from "./delivery-id.js";
import { newTraceId, traceIdOf } from "./traceparent.js";
import { deliveryRow, windowRow, withoutWebhooksReason, type BatchWindow, type WithoutWebhooksReason } from "./window-batch.js";
import type { WebhookCache } from "./webhook-cache.js";
import type { Workers } from "./workers.js";

export interface ChunkSources {
  readonly webhooks: WebhookCache;
  readonly workers: Pick<Workers, "reserve" | "release" | "worthWaiting">;
  readonly observer: Pick<AttemptObserver, "windowRead">;
}

/** A window stored without deliveries (a type, not an interface: it is logged as a record of fields). */
export type WindowWithoutWebhooks = {
  readonly windowId: string;
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly reason: WithoutWebhooksReason;
};

/** The rows of one chunk of a batch, and where the next chunk starts. */
export interface Chunk {
  readonly windows: NewWindow[];
  readonly deliveries: NewDelivery[];
  /** The webhook bodies of the windows that have deliveries, for the payload cache. */
  readonly bodies: [string, Buffer][];
  readonly without: WindowWithoutWebhooks[];
  /** The index of the first window not in this chunk. */
  readonly next: number;
  /** The window ids this chunk holds. */
  readonly chunkSeen: string[];
}

/**
 * The rows of one chunk of a batch, from window `from` on: the windows, and one delivery per webhook
 * of each window's rule version, each reserved in the workers' lanes when they have room (stored
 * claimed, sent without a claim). Until `lingerUntil`, the chunk ends before the first window one of
 * whose deliveries finds no room but may find some soon (`next` is that window): the caller stores the
 * chunk, waits for room and goes on. Past it, deliveries without room are stored pending for a claim.
 * `seen` holds the windows of the batch stored already.
 */
export async function collectChunk(
  o: ChunkSources,
  decoded: readonly BatchWindow[],
  from: number,
  seen: ReadonlySet<string>,
  lingerUntil: number,
): Promise<Chunk> {
  const windows: NewWindow[] = [];
  const deliveries: NewDelivery[] = [];
  const bodies: [string, Buffer][] = [];
  const without: WindowWithoutWebhooks[] = [];
  const chunkSeen: string[] = [];
  let next = from;
  try {
    for (; next < decoded.length; next++) {
      const d = decoded[next]!;
      // A window re-emitted after an evaluator crash can sit twice in one batch (same key, same
      // partition); its deliveries must be reserved, and so sent, once.
      if (seen.has(d.window.window_id) || chunkSeen.includes(d.window.window_id)) continue;
      if (!(await addRows(d))) break;
      chunkSeen.push(d.window.window_id);
    }
  } catch (error) {
    // Give back the lane room reserved so far, or a database outage would leak it for good.
    for (const delivery of deliveries) if (delivery.claimed) o.workers.release(delivery, 1);
    throw error;
  }
  return { windows, deliveries, bodies, without, next, chunkSeen };

  /** False when the window waits for the next chunk (no room yet, lingering). */
  async function addRows(d: BatchWindow): Promise<boolean> {
    const w = d.window;
    const targets = await o.webhooks.get(w.rule_id, w.rule_version);
    const reason = withoutWebhooksReason(targets);
    const mine: NewDelivery[] = [];
    if (targets !== undefined && reason === undefined) {
      const traceId = traceIdOf(d.traceparent) ?? newTraceId();
      o.observer.windowRead(w.window_id, d.traceparent);
      for (const target of targets.values()) {
        const claimed = o.workers.reserve(target.origin, w.tenant_id);
        if (!claimed && Date.now() < lingerUntil && o.workers.worthWaiting(target.origin, w.tenant_id)) {
          for (const m of mine) if (m.claimed) o.workers.release(m, 1);
          return false;
        }
        mine.push(deliveryRow(d, deliveryId(w.window_id, target.webhookId), target, traceId, claimed));
      }
    }
    deliveries.push(...mine);
    windows.push(windowRow(d, targets?.size ?? 0));
    if (reason !== undefined) {
      without.push({ windowId: w.window_id, ruleId: w.rule_id, ruleVersion: w.rule_version, reason });
      return true;
    }
    bodies.push([w.window_id, d.payload]);
    return true;
  }
}
