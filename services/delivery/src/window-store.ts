import { databaseErrorKind, storeWindows, type Database, type NewDelivery } from "@runhooks/db";
import type { Logger } from "@runhooks/telemetry";
import type { EachBatchPayload } from "kafkajs";
import type { Counters } from "./counters.js";
import type { PayloadCache } from "./payload-cache.js";
import { settleChunk, type CompletedWindow } from "./window-batch.js";
import { collectChunk, type ChunkSources } from "./window-chunk.js";
import type { Workers } from "./workers.js";

export interface WindowStoreOptions extends ChunkSources {
  readonly db: Database;
  readonly payloads: PayloadCache;
  readonly workers: ChunkSources["workers"] & Pick<Workers, "adopt" | "roomOpened">;
  readonly leaseMs: number;
  readonly instanceId: string;
  readonly log: Logger;
  readonly counters: Counters;
  /** Called after new deliveries were stored pending, so the workers look at once. */
  readonly onStored: () => void;
  readonly onDatabase: (ok: boolean) => void;
}

/**
 * How long a batch's windows may wait for room in the workers' lanes before the rest is stored pending.
 * They wait only for room that comes back fast (`worthWaiting`): a full lane of a slow endpoint sends
 * its deliveries pending at once, so it does not hold up the batch's other windows.
 */
const LINGER_MS = 2000;

/**
 * Once room opens, how long to let more of it open before storing the next chunk: room comes back one
 * attempt at a time, and a chunk per attempt would make every statement tiny (Postgres then spends
 * more on statements than on rows).
 */
const GATHER_MS = 25;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How storing a batch's windows ended: all stored; given up (the consumer stops, or the partition was
 * taken away); or refused by PostgreSQL, which answered and turned a chunk down (a constraint, a type):
 * the same statement would fail again, so the caller sets the partition aside for a while instead of
 * retrying here — kafkajs fetches a broker's partitions together and waits for every batch of a fetch,
 * so a batch retried in place would hold up every other windows partition on that broker.
 */
export type StoreOutcome =
  { readonly kind: "stored" } | { readonly kind: "given_up" } | { readonly kind: "refused"; readonly error: string };

/**
 * Stores a batch's windows and their deliveries, chunk by chunk. Windows wait a little for room in
 * the lanes rather than go through the pending queue: a first attempt sent from a claim costs a claim
 * statement and one more row version of the delivery.
 */
export async function storeBatch(
  o: WindowStoreOptions,
  payload: EachBatchPayload,
  completed: readonly CompletedWindow[],
): Promise<StoreOutcome> {
  const lingerUntil = Date.now() + LINGER_MS;
  for (let from = 0; from < completed.length;) {
    const next = await storeChunk(o, payload, completed, from, lingerUntil);
    if (typeof next !== "number") return next;
    if (next < completed.length) {
      await o.workers.roomOpened(Math.max(0, lingerUntil - Date.now()));
      await sleep(GATHER_MS);
      await payload.heartbeat();
    }
    from = next;
  }
  return { kind: "stored" };
}

/** Stores one chunk (retrying while Postgres is unreachable); the index of the next window, or why it stopped. */
async function storeChunk(
  o: WindowStoreOptions,
  payload: EachBatchPayload,
  completed: readonly CompletedWindow[],
  from: number,
  lingerUntil: number,
): Promise<number | Exclude<StoreOutcome, { kind: "stored" }>> {
  for (let attempt = 1; ; attempt++) {
    if (!payload.isRunning() || payload.isStale()) return { kind: "given_up" };
    let reserved: NewDelivery[] = [];
    try {
      // 1. The chunk's rows, its deliveries reserved in the lanes where there is room.
      const { windows, deliveries, bodies, without, next } = await collectChunk(
        o,
        completed,
        from,
        attempt === 1 ? lingerUntil : 0,
      );
      reserved = deliveries.filter((d) => d.claimed);
      if (windows.length === 0) return next;
      // 2. Stored in one statement.
      const stored = settleChunk(
        windows.length,
        reserved,
        await storeWindows(o.db, windows, deliveries, { leaseMs: o.leaseMs, claimedBy: o.instanceId }),
      );
      o.onDatabase(true);
      // 3. Counted, and what has nowhere to go said.
      o.counters.windowsStored += stored.windowsStored;
      o.counters.windowsDuplicate += stored.windowsDuplicate;
      o.counters.deliveriesCreated += stored.deliveriesCreated;
      for (const w of without) {
        o.counters.windowsWithoutWebhooks[w.reason] = (o.counters.windowsWithoutWebhooks[w.reason] ?? 0) + 1;
        o.log(w.reason === "unknown_rule_version" ? "warn" : "debug", "window has nothing to deliver to", w);
      }
      for (const [windowId, body] of bodies) o.payloads.set(windowId, body);
      // 4. Ours to send: created claimed. The room of those that existed already goes back.
      for (const d of stored.release) o.workers.release(d, 1);
      reserved = [];
      if (stored.adopt.length > 0) await o.workers.adopt(stored.adopt);
      if (stored.storedPending) o.onStored();
      return next;
    } catch (error) {
      for (const d of reserved) o.workers.release(d, 1);
      o.counters.databaseErrors++;
      const partition = payload.batch.partition;
      if (databaseErrorKind(error) === "refused") {
        // PostgreSQL answered: it is reachable, and the same statement fails again until the database
        // or this code changes. Said loudly; the caller sets the partition aside and tries it later
        // (skipping would lose the windows).
        o.counters.windowsStoreRefused++;
        o.log("error", "the database refused a chunk of windows; its windows partition waits until it is fixed", {
          partition,
          sqlstate: (error as { code?: string }).code,
          error: String(error),
          windows: completed.slice(from, from + 5).map((w) => w.windowId),
        });
        return { kind: "refused", error: String(error) };
      }
      o.onDatabase(false);
      o.log(attempt === 1 ? "warn" : "debug", "could not store windows; retrying", {
        partition,
        attempt,
        error: String(error),
      });
      await sleep(Math.min(2000, 100 * attempt));
      await payload.heartbeat().catch(() => undefined);
    }
  }
}
