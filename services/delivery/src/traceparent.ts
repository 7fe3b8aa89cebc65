import { randomBytes } from "node:crypto";

/** W3C trace context: `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The trace id of a valid traceparent (not all zeros), else undefined. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  const m = traceparent === undefined ? null : TRACEPARENT.exec(traceparent.trim());
  if (!m?.[1] || /^0+$/.test(m[1]) || /^0+$/.test(m[2] ?? "")) return undefined;
  return m[1];
}

export function newTraceId(): string {
  return randomBytes(16).toString("hex");
}

/** A traceparent for one attempt: a fresh span in the delivery's trace, sampled. */
export function attemptTraceparent(traceId: string): string {
  return `00-${traceId}-${randomBytes(8).toString("hex")}-01`;
}
