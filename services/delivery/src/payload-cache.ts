/**
 * Webhook bodies by window id, as Buffers: serialised once when the window is read and sent as the
 * same bytes on every attempt. Bounded by total size; least recently used dropped first (a body not
 * here is read back from Postgres).
 */
export interface PayloadCache {
  get(windowId: string): Buffer | undefined;
  set(windowId: string, body: Buffer): void;
  readonly bytes: number;
}

export function createPayloadCache(maxBytes: number): PayloadCache {
  const entries = new Map<string, Buffer>();
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
        bytes -= old.length;
        entries.delete(windowId);
      }
      if (body.length > maxBytes) return;
      entries.set(windowId, body);
      bytes += body.length;
      while (bytes > maxBytes) {
        const [oldest, buffer] = entries.entries().next().value!;
        entries.delete(oldest);
        bytes -= buffer.length;
      }
    },
    get bytes() {
      return bytes;
    },
  };
}
