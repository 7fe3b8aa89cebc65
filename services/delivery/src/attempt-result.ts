import type { AttemptOutcome } from "@runhooks/contracts";

/**
 * What one HTTP attempt came to, before any policy is applied. Every case carries what the record
 * needs; texts are already scrubbed of the webhook's secrets by the sender.
 */
export type AttemptResult =
  /** A response arrived within the deadline: its status and at most 1 KiB of its body. */
  | {
      readonly kind: "response";
      readonly statusCode: number;
      readonly excerpt: string | null;
      /** What a failure's `Retry-After` asked for, in ms from when it arrived. */
      readonly retryAfterMs?: number;
    }
  /**
   * No connection, or it failed before any response: refused, DNS, TLS, connect timeout, reset. The
   * endpoint did not answer; LangSmith retries these.
   */
  | { readonly kind: "connect_error"; readonly error: string }
  /** No complete response (headers and body, or the first 1 KiB of it) within the deadline. */
  | { readonly kind: "timeout"; readonly error: string }
  /** Every address the host resolved to is one we refuse to connect to. */
  | { readonly kind: "ssrf_blocked"; readonly error: string }
  /** The endpoint answered with something that is not a valid HTTP response (no status to judge by). */
  | { readonly kind: "invalid_response"; readonly error: string }
  /** Any other failure before a response: not known to be the endpoint's doing, not retried. */
  | { readonly kind: "request_failed"; readonly error: string }
  /**
   * Runhooks could not judge the attempt: the process stalled past its deadline with no answer read,
   * or the HTTP thread stopped under it. Sent again, not counted against the round's retries.
   */
  | { readonly kind: "interrupted"; readonly error: string };

/** The recorded outcome of an attempt result. */
export function outcomeOf(result: AttemptResult): AttemptOutcome {
  switch (result.kind) {
    case "response":
      return outcomeOfStatus(result.statusCode);
    case "connect_error":
    case "timeout":
    case "ssrf_blocked":
    case "invalid_response":
    case "request_failed":
    case "interrupted":
      return result.kind;
  }
}

/** 2xx success, 3xx, 4xx, 5xx; a non-standard status of 600 or more counts as a server error. */
export function outcomeOfStatus(status: number): AttemptOutcome {
  if (status >= 200 && status < 300) return "success";
  if (status >= 300 && status < 400) return "http_3xx";
  if (status >= 400 && status < 500) return "http_4xx";
  if (status >= 500) return "http_5xx";
  // 1xx never ends a request in undici; anything below 200 is not a valid final status.
  return "http_4xx";
}

/** The status code as the attempt contract allows it (100–599), else null. */
export function recordedStatus(result: AttemptResult): number | null {
  return result.kind === "response" && result.statusCode >= 100 && result.statusCode <= 599 ? result.statusCode : null;
}

export function errorOf(result: AttemptResult): string | null {
  return result.kind === "response" ? null : result.error;
}
