/** A window's webhook body and which of its window's chunks it is: what every attempt of its deliveries sends. */
export interface WindowBody {
  readonly body: Buffer;
  /** 0-based. */
  readonly chunkIndex: number;
  readonly chunkCount: number;
  /** Set for a window a backfill made (the `runhooks-backfill` header). */
  readonly backfillId?: string | undefined;
}

/**
 * Webhook bodies by window id: serialised once when the window is assembled and sent as the same bytes
 * on every attempt. Bounded by total size; least recently used dropped first (a body not here is read
 * back from Postgres).
 */
export interface PayloadCache {
  get(windowId: string): WindowBody | undefined;
  set(windowId: string, body: WindowBody): void;
  readonly bytes: number;
}

export function createPayloadCache(maxBytes: number): PayloadCache {
  const entries = new Map<string, WindowBody>();
  let bytes = 0;
  return {
    get(windowId) {
      const body = entries.get(windowId);
      if (body !== undefined) {
        entries.delete(windowId);
        entries.set(windowId, body);
      }
      return body;
    },
    set(windowId, body) {
      const old = entries.get(windowId);
      if (old !== undefined) {
        bytes -= old.body.length;
        entries.delete(windowId);
      }
      if (body.body.length > maxBytes) return;
      entries.set(windowId, body);
      bytes += body.body.length;
      while (bytes > maxBytes) {
        const [oldest, entry] = entries.entries().next().value!;
        entries.delete(oldest);
        bytes -= entry.body.length;
      }
    },
    get bytes() {
      return bytes;
    },
  };
}
