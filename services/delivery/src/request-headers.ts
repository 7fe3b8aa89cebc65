import { signature } from "./signing.js";
import type { Target } from "./target.js";
import { USER_AGENT } from "./version.js";

/** Header carrying the attempt number, so a receiver (and our tests) can tell retries apart. */
export const ATTEMPT_HEADER = "runhooks-attempt";

export interface AttemptHeaderInput {
  readonly target: Target;
  /** The delivery id: `webhook-id`, identical on every attempt of a delivery. */
  readonly deliveryId: string;
  readonly attempt: number;
  /** Seconds since the epoch, taken for each attempt. */
  readonly timestampSeconds: number;
  readonly traceparent: string;
  readonly body: Buffer;
}

/** The headers of one attempt. Pure: the same input gives the same headers. */
export function attemptHeaders(i: AttemptHeaderInput): Record<string, string> {
  const headers: Record<string, string> = {
    ...i.target.headers,
    "content-type": "application/json",
    "user-agent": USER_AGENT,
    traceparent: i.traceparent,
    "webhook-id": i.deliveryId,
    "webhook-timestamp": String(i.timestampSeconds),
    [ATTEMPT_HEADER]: String(i.attempt),
  };
  if (i.target.signingKey !== undefined) {
    headers["webhook-signature"] = signature(i.target.signingKey, i.deliveryId, i.timestampSeconds, i.body);
  }
  return headers;
}
