import { randomFillSync } from "node:crypto";

/** W3C trace context: `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The trace id of a valid traceparent (not all zeros), else undefined. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  const m = traceparent === undefined ? null : TRACEPARENT.exec(traceparent.trim());
  if (!m?.[1] || /^0+$/.test(m[1]) || /^0+$/.test(m[2] ?? "")) return undefined;
  return m[1];
}

export function newTraceId(): string {
  return randomHex(16);
}

/** Random bytes drawn in bulk: one call per 4 KiB instead of one per id. */
const pool = Buffer.alloc(4096);
let used = pool.length;

function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString("hex", used, used + bytes);
  used += bytes;
  // All zeros is not a valid trace or span id.
  return /^0+$/.test(hex) ? randomHex(bytes) : hex;
}

function spanId(): string {
  return randomHex(8);
}

/** A traceparent for one attempt: a fresh span in the delivery's trace, sampled. */
export function attemptTraceparent(traceId: string): string {
  return `00-${traceId}-${spanId()}-01`;
}
