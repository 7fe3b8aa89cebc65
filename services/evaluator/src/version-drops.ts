import { decodeCheckpoint, dropVersionsBefore, versionsNeededFrom } from "@runhooks/rules";
import type { Admin } from "kafkajs";
import type { Logger } from "@runhooks/telemetry";
import type { Counters } from "./counters.js";
import type { RulesLog } from "./rules-log.js";

/** How often the group's checkpoints are read to drop the rule versions no refold can need. */
export const VERSION_DROP_INTERVAL_MS = 60_000;

export interface VersionDropsOptions {
  readonly admin: Admin;
  readonly groupId: string;
  readonly runsTopic: string;
  readonly rules: RulesLog;
  readonly intervalMs: number;
  readonly log: Logger;
  readonly counters: Counters;
}

export interface VersionDrops {
  /** Reads the checkpoints and drops what they allow now; resolves with the versions dropped. */
  dropNow(): Promise<number>;
  stop(): void;
}

/**
 * Drops the rule versions no run will be judged by again (DESIGN.md §3): those superseded before the
 * lowest refold start over every partition of the runs topic, read from the group's committed
 * checkpoints — not only this instance's partitions, since a rebalance may hand it any of them, and
 * the instance that folds a partition next refolds from its committed checkpoint.
 */
export function startVersionDrops(o: VersionDropsOptions): VersionDrops {
  let droppedBefore = Number.NEGATIVE_INFINITY;
  let running: Promise<number> | undefined;
  const dropNow = async (): Promise<number> => {
    const committed = (await o.admin.fetchOffsets({ groupId: o.groupId, topics: [o.runsTopic] })).flatMap(
      (t) => t.partitions,
    );
    const checkpoints = committed.map((p) => (Number(p.offset) >= 0 ? decodeCheckpoint(p.metadata) : undefined));
    const { book } = o.rules;
    const from = versionsNeededFrom(checkpoints, book.longestWindowMs, book.longestHorizonMs);
    if (from === undefined || from <= droppedBefore) return 0;
    droppedBefore = from;
    const dropped = dropVersionsBefore(book, from);
    o.counters.ruleVersionsDropped += dropped;
    if (dropped > 0)
      o.log("info", "dropped rule versions no refold can need", { dropped, before: new Date(from).toISOString() });
    return dropped;
  };
  const timer = setInterval(() => {
    running ??= dropNow()
      .catch((error: unknown) => {
        o.log("warn", "could not read the checkpoints to drop rule versions; retrying", { error: String(error) });
        return 0;
      })
      .finally(() => (running = undefined));
  }, o.intervalMs);
  timer.unref();
  return { dropNow, stop: () => clearInterval(timer) };
}
