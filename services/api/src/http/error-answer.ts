import type { FastifyError } from "fastify";
import { RateLimitedError } from "./auth.js";

/** An error answer: its status, its `{error, message}` body, and Retry-After when a retry will do. */
export interface ErrorAnswer {
  readonly status: number;
  readonly body: { readonly error: string; readonly message: string; readonly [extra: string]: unknown };
  readonly retryAfterSeconds?: number;
  /** Not the client's doing: the API logs the error (the answer only says "internal"). */
  readonly unexpected: boolean;
}

/**
 * What reached the API's error handler, answered. A key over its rate is 429 with the error's code
 * and Retry-After; Fastify's 4xx (malformed JSON, a body too large, a wrong content type) are the
 * client's to fix; anything else is ours. Pure.
 */
export function errorAnswer(error: FastifyError | RateLimitedError): ErrorAnswer {
  if (error instanceof RateLimitedError) {
    return {
      status: error.statusCode,
      body: { error: error.code, message: error.message },
      retryAfterSeconds: error.retryAfterSeconds,
      unexpected: false,
    };
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code = status === 413 ? "body_too_large" : status === 415 ? "unsupported_media_type" : "invalid_request";
    const issues = status === 400 ? { issues: [{ path: "(body)", message: error.message }] } : {};
    return { status, body: { error: code, message: error.message, ...issues }, unexpected: false };
  }
  return { status: 500, body: { error: "internal", message: "internal error; see the API's log" }, unexpected: true };
}
