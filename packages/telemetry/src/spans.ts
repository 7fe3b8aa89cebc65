import { SpanStatusCode, type Span } from "@opentelemetry/api";

/**
 * Records an unexpected error (a thrown exception, a bug, an outage) on the span. Expected outcomes
 * (a 4xx answer, a dead-lettered run) are attributes, never errors. The message is the error's own:
 * callers scrub secrets from errors before they reach here (webhook secrets never enter errors thrown
 * by runhooks code; undici errors are scrubbed by the sender).
 */
export function recordUnexpected(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : new Error(String(error)));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/** Runs `fn` with the span and ends it; a throw is recorded as unexpected and rethrown. */
export async function inSpan<T>(span: Span, fn: (span: Span) => Promise<T>): Promise<T> {
  try {
    return await fn(span);
  } catch (error) {
    recordUnexpected(span, error);
    throw error;
  } finally {
    span.end();
  }
}
