import type { SpanContext } from "@opentelemetry/api";

/**
 * The producer contexts of messages a consumer still holds, by partition and offset: what a later
 * span (a window's publish) links to. The caller forgets offsets it no longer needs (below its commit),
 * so the index holds at most the messages of work still open. Offsets are remembered in increasing
 * order within a partition (a refold after a rebalance starts with `clear`).
 */
export interface ContextIndex {
  remember(partition: number, offset: number, context: SpanContext): void;
  get(partition: number, offset: number): SpanContext | undefined;
  /** Drops the partition's offsets below `below`. */
  forget(partition: number, below: number): void;
  clear(): void;
  /** Contexts held, over all partitions. */
  readonly size: number;
}

export function createContextIndex(): ContextIndex {
  const partitions = new Map<number, Map<number, SpanContext>>();
  let size = 0;
  return {
    remember(partition, offset, context) {
      let m = partitions.get(partition);
      if (m === undefined) partitions.set(partition, (m = new Map<number, SpanContext>()));
      if (!m.has(offset)) size++;
      m.set(offset, context);
    },
    get: (partition, offset) => partitions.get(partition)?.get(offset),
    forget(partition, below) {
      const m = partitions.get(partition);
      if (m === undefined) return;
      for (const offset of m.keys()) {
        if (offset >= below) break;
        m.delete(offset);
        size--;
      }
    },
    clear() {
      partitions.clear();
      size = 0;
    },
    get size() {
      return size;
    },
  };
}
