import type { NewDelivery, NewWindow } from "@runhooks/db";
import type { AttemptObserver } from "./attempt-observer.js";
import { deliveryId } from "./delivery-id.js";
import { newTraceId, traceIdOf } from "./traceparent.js";
import type { WindowBody } from "./payload-cache.js";
import {
  deliveryRow,
  windowRow,
  withoutWebhooksReason,
  type CompletedWindow,
  type WithoutWebhooksReason,
} from "./window-batch.js";
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
  readonly bodies: [string, WindowBody][];
  readonly without: WindowWithoutWebhooks[];
  /** The index of the first window not in this chunk. */
  readonly next: number;
}

/**
 * The rows of one chunk of a batch, from window `from` on: the windows, and one delivery per webhook
 * of each window's rule version, each reserved in the workers' lanes when they have room (stored
 * claimed, sent without a claim). Until `lingerUntil`, the chunk ends before the first window one of
 * whose deliveries finds no room but may find some soon (`next` is that window): the caller stores the
 * chunk, waits for room and goes on. Past it, deliveries without room are stored pending for a claim.
 * The assembler completes a window once, so a batch holds each window id at most once.
 */
export async function collectChunk(
  o: ChunkSources,
  completed: readonly CompletedWindow[],
  from: number,
  lingerUntil: number,
): Promise<Chunk> {
  const windows: NewWindow[] = [];
  const deliveries: NewDelivery[] = [];
  const bodies: [string, WindowBody][] = [];
  const without: WindowWithoutWebhooks[] = [];
  let next = from;
  try {
    for (; next < completed.length; next++) {
      if (!(await addRows(completed[next]!))) break;
    }
  } catch (error) {
    // Give back the lane room reserved so far, or a database outage would leak it for good.
    for (const delivery of deliveries) if (delivery.claimed) o.workers.release(delivery, 1);
    throw error;
  }
  return { windows, deliveries, bodies, without, next };

  /** False when the window waits for the next chunk (no room yet, lingering). */
  async function addRows(w: CompletedWindow): Promise<boolean> {
    const targets = await o.webhooks.get(w.ruleId, w.ruleVersion);
    const reason = withoutWebhooksReason(targets);
    const mine: NewDelivery[] = [];
    if (targets !== undefined && reason === undefined) {
      const traceId = traceIdOf(w.traceparent) ?? newTraceId();
      o.observer.windowRead(w.windowId, w.traceparent);
      for (const target of targets.values()) {
        const claimed = o.workers.reserve(target.origin, w.tenantId);
        if (!claimed && Date.now() < lingerUntil && o.workers.worthWaiting(target.origin, w.tenantId)) {
          for (const m of mine) if (m.claimed) o.workers.release(m, 1);
          return false;
        }
        mine.push(deliveryRow(w, deliveryId(w.windowId, target.webhookId), target, traceId, claimed));
      }
    }
    deliveries.push(...mine);
    windows.push(windowRow(w, targets?.size ?? 0));
    if (reason !== undefined) {
      without.push({ windowId: w.windowId, ruleId: w.ruleId, ruleVersion: w.ruleVersion, reason });
      return true;
    }
    bodies.push([w.windowId, { body: w.payload, chunkIndex: w.chunkIndex, chunkCount: w.chunkCount }]);
    return true;
  }
}
