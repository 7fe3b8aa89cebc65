import { signatures, signingKeysAt } from "./signing.js";
import type { Target } from "./target.js";
import { USER_AGENT } from "./version.js";

/** Header carrying the attempt number, so a receiver (and our tests) can tell retries apart. */
export const ATTEMPT_HEADER = "runhooks-attempt";
/** Headers placing the body among its window's chunks (0-based index, count), so a receiver can reassemble it. */
export const CHUNK_INDEX_HEADER = "runhooks-chunk-index";
export const CHUNK_COUNT_HEADER = "runhooks-chunk-count";
/** Names the backfill a window comes from (DESIGN.md §4 "Backfills"); absent on live windows. */
export const BACKFILL_HEADER = "runhooks-backfill";

export interface AttemptHeaderInput {
  readonly target: Target;
  /** The delivery id: `webhook-id`, identical on every attempt of a delivery. */
  readonly deliveryId: string;
  readonly attempt: number;
  /** Seconds since the epoch, taken for each attempt. */
  readonly timestampSeconds: number;
  readonly traceparent: string;
  /** Which of its window's chunks the body is (0-based), and how many the window has. */
  readonly chunkIndex: number;
  readonly chunkCount: number;
  /** The backfill the window comes from, if one made it. */
  readonly backfillId?: string | undefined;
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
    [CHUNK_INDEX_HEADER]: String(i.chunkIndex),
    [CHUNK_COUNT_HEADER]: String(i.chunkCount),
  };
  if (i.backfillId !== undefined) headers[BACKFILL_HEADER] = i.backfillId;
  const keys = signingKeysAt(i.target, i.timestampSeconds);
  if (keys.length > 0) headers["webhook-signature"] = signatures(keys, i.deliveryId, i.timestampSeconds, i.body);
  return headers;
}
