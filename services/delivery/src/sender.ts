import { MAX_RESPONSE_EXCERPT_BYTES, redactText } from "@runhooks/contracts";
import { Agent, type Dispatcher } from "undici";
import type { AddressPolicy } from "./address-policy.js";
import type { AttemptResult } from "./attempt-result.js";
import { SSRF_BLOCKED, guardedConnector } from "./connector.js";
import { parseRetryAfter } from "./schedule-policy.js";
import type { Target } from "./target.js";
import { deadlineVerdict, stallToleranceMs } from "./deadline-verdict.js";
import { startStallClock } from "./stall-clock.js";

export interface SenderOptions {
  readonly policy: AddressPolicy;
  /** Deadline for the whole response: headers, and the body up to its end or its first 1 KiB. Seed: 5 s. */
  readonly deadlineMs: number;
  /** Connecting (TCP + TLS) longer than this is a failure to connect. */
  readonly connectTimeoutMs: number;
  /** Keep-alive connections per origin; also the most requests in flight to one origin. */
  readonly connectionsPerOrigin: number;
}

export interface SendRequest {
  /** Where to, and what to scrub from texts (the rest of the target is in the headers already). */
  readonly target: Pick<Target, "origin" | "path" | "secrets">;
  readonly headers: Record<string, string>;
  /** Serialised once per window; the same buffer is sent on every attempt. */
  readonly body: Buffer;
}

export interface Sender {
  send(request: SendRequest): Promise<AttemptResult>;
  close(): Promise<void>;
}

/**
 * Failures to connect: the endpoint could not be reached at all (DNS, refused, unreachable, connect
 * timeout). TLS handshake failures are recognised by `isTlsCode`. These are `connect_error` (retried).
 */
const CONNECT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_FAIL",
  "EAI_NODATA",
  "EAI_NONAME",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ENETDOWN",
  "ETIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** Timers that a stall of the process fires late: after a stall they say nothing about the endpoint. */
const TIMER_CODES = new Set([
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "ETIMEDOUT",
]);

/** The connection reset or closed by the other side: `connect_error` only before any response byte. */
const CLOSED_CODES = new Set(["ECONNRESET", "ECONNABORTED", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED"]);

/** The endpoint answered, but not with a valid HTTP response (llhttp's HPE_* codes, undici's limits). */
function isInvalidResponseCode(code: string): boolean {
  return (
    code.startsWith("HPE_") ||
    code === "UND_ERR_HEADERS_OVERFLOW" ||
    code === "UND_ERR_RES_CONTENT_LENGTH_MISMATCH" ||
    code === "UND_ERR_RES_EXCEEDED_MAX_SIZE" ||
    code === "UND_ERR_INFO"
  );
}

/**
 * The outcome of an error before a response's status arrived (the decision table in DESIGN.md §5):
 * only a real failure to connect is `connect_error`; anything unrecognised is `request_failed` (not
 * retried), never silently a retried connect error.
 */
export function failureKind(
  code: string | undefined,
  name?: string,
): "connect_error" | "invalid_response" | "request_failed" {
  // undici's parser error does not always carry an HPE_ code (e.g. not HTTP at all).
  if (name === "HTTPParserError") return "invalid_response";
  if (code === undefined) return "request_failed";
  if (CONNECT_CODES.has(code) || CLOSED_CODES.has(code) || isTlsCode(code)) return "connect_error";
  if (isInvalidResponseCode(code)) return "invalid_response";
  return "request_failed";
}

function codeOf(error: unknown): string | undefined {
  const e = error as { code?: unknown; errors?: unknown[]; cause?: unknown } | null;
  if (e === null || typeof e !== "object") return undefined;
  if (typeof e.code === "string") return e.code;
  if (Array.isArray(e.errors) && e.errors.length > 0) return codeOf(e.errors[0]);
  return e.cause === undefined ? undefined : codeOf(e.cause);
}

function nameOf(error: unknown): string | undefined {
  if (error instanceof Error)
    return error.name === "Error" && error.cause !== undefined ? nameOf(error.cause) : error.name;
  return undefined;
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map((e) => (e instanceof Error ? e.message : String(e))).join("; ");
  }
  return error instanceof Error ? error.message : String(error);
}

/** Text that goes into records: no NUL (Postgres text refuses it), no secrets. */
export function scrub(text: string, secrets: readonly string[]): string {
  return redactText(text.replaceAll("\u0000", "\uFFFD"), secrets);
}

/** Why the sender hung up on a response (its first `MAX_RESPONSE_EXCERPT_BYTES` were read). */
class ExcerptComplete extends Error {
  override readonly name = "ExcerptComplete";
}

const utf8 = new TextDecoder("utf-8", { fatal: false });

/**
 * POSTs with undici: one keep-alive pool per origin (the Agent keeps them), redirects never followed
 * (undici follows none unless told to), a deadline for the whole response, and at most 1 KiB of the
 * body read — the rest is never read: the connection is destroyed instead.
 *
 * Through undici's dispatch API, not `request()`: the response arrives as plain callbacks, with no
 * Readable stream, async iterator or AbortController per request (in a profile of the HTTP thread on a
 * loaded machine, ~15 µs of a POST's ~110). The deadline settles the attempt when it passes, even if
 * the request still waits for a connection, and aborts the request as soon as undici lets it. A
 * deadline that fires after the process stalled never overrides an answer waiting in the socket, and
 * an attempt the process could not watch is `interrupted`, not failed (deadline-verdict.ts).
 */
export function createSender(o: SenderOptions): Sender {
  const agent = new Agent({
    connections: o.connectionsPerOrigin,
    pipelining: 1,
    keepAliveTimeout: 4000,
    keepAliveMaxTimeout: 60_000,
    // Our own deadline governs; these only backstop it.
    headersTimeout: o.deadlineMs + 1000,
    bodyTimeout: o.deadlineMs + 1000,
    connect: guardedConnector({ policy: o.policy, connectTimeoutMs: Math.min(o.connectTimeoutMs, o.deadlineMs) }),
  });

  const clock = startStallClock();
  const tolerance = stallToleranceMs(o.deadlineMs);
  const interrupted = (stalledMs: number): AttemptResult => ({
    kind: "interrupted",
    error: `interrupted: this process stalled for ${stalledMs} ms during the attempt (deadline ${o.deadlineMs} ms); whether the endpoint answered in time cannot be judged, so it is sent again`,
  });

  function send(r: SendRequest): Promise<AttemptResult> {
    return new Promise<AttemptResult>((resolve) => {
      let settled = false;
      let abort: ((reason?: Error) => void) | undefined;
      let statusCode: number | undefined;
      let retryAfterMs: number | undefined;
      const chunks: Buffer[] = [];
      let size = 0;
      const settle = (result: AttemptResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const excerpt = (): string | null => {
        if (size === 0) return null;
        const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
        return scrub(utf8.decode(bytes.subarray(0, MAX_RESPONSE_EXCERPT_BYTES)), r.target.secrets);
      };
      const response = (code: number, text: string | null): AttemptResult =>
        retryAfterMs === undefined
          ? { kind: "response", statusCode: code, excerpt: text }
          : { kind: "response", statusCode: code, excerpt: text, retryAfterMs };
      const startedAt = clock.mark();
      const onDeadline = (socketRead: boolean) => {
        if (settled) return;
        const verdict = deadlineVerdict({
          deadlineMs: o.deadlineMs,
          startedAt,
          now: clock.mark(),
          stalledMs: clock.stalledSince(startedAt),
          responded: settled,
          statusArrived: statusCode !== undefined,
          socketRead,
        });
        switch (verdict.kind) {
          case "answered":
            return;
          case "wait":
            timer = setTimeout(() => onDeadline(false), verdict.ms);
            return;
          case "read_first":
            // Timers run before the poll phase reads the sockets; immediates run after it.
            setImmediate(() => onDeadline(true));
            return;
          case "by_status":
            settle(response(statusCode!, excerpt()));
            break;
          case "timeout": {
            const what =
              statusCode === undefined ? "no response" : `status ${statusCode} but the body did not complete`;
            settle({ kind: "timeout", error: `${what} within ${o.deadlineMs} ms` });
            break;
          }
          case "interrupted":
            settle(interrupted(verdict.stalledMs));
            break;
        }
        abort?.(new Error("deadline passed"));
      };
      let timer = setTimeout(() => onDeadline(false), o.deadlineMs);
      const handler: Dispatcher.DispatchHandler = {
        onConnect(abortRequest) {
          abort = abortRequest;
          if (settled) abortRequest(new Error("deadline passed"));
        },
        onHeaders(status, rawHeaders) {
          // 1xx are interim: the final status follows.
          if (status >= 200) statusCode = status;
          // Only a failure's Retry-After can matter (a webhook's retry schedule may honour it).
          if (status >= 400 && rawHeaders) retryAfterMs = retryAfterOf(rawHeaders);
          return true;
        },
        onData(chunk) {
          if (size < MAX_RESPONSE_EXCERPT_BYTES) {
            chunks.push(chunk);
            size += chunk.length;
          }
          if (size >= MAX_RESPONSE_EXCERPT_BYTES && statusCode !== undefined) {
            settle(response(statusCode, excerpt()));
            abort?.(new ExcerptComplete("the excerpt is complete"));
            return false;
          }
          return true;
        },
        onComplete() {
          if (statusCode !== undefined) settle(response(statusCode, excerpt()));
          else settle({ kind: "invalid_response", error: "the response ended without a final status" });
        },
        onError(error) {
          if (settled) return;
          const code = codeOf(error);
          if (code !== undefined && TIMER_CODES.has(code)) {
            // undici's own timers fire late after a stall too: they never judge a stalled attempt.
            const stalledMs = clock.stalledSince(startedAt);
            if (stalledMs > tolerance) {
              settle(statusCode !== undefined ? response(statusCode, null) : interrupted(Math.round(stalledMs)));
              return;
            }
          }
          if (code === SSRF_BLOCKED) {
            settle({ kind: "ssrf_blocked", error: scrub(messageOf(error), r.target.secrets) });
            return;
          }
          // The status arrived but the body broke off (not by our deadline): the body is ignored anyway,
          // so the status decides.
          if (statusCode !== undefined) {
            settle(response(statusCode, null));
            return;
          }
          settle({
            kind: failureKind(code, nameOf(error)),
            error: scrub(`${code ?? "error"}: ${messageOf(error)}`, r.target.secrets),
          });
        },
      };
      try {
        agent.dispatch(
          { origin: r.target.origin, path: r.target.path, method: "POST", headers: r.headers, body: r.body },
          handler,
        );
      } catch (error) {
        // Refused before anything was sent (e.g. a header value undici will not write).
        handler.onError!(error as Error);
      }
    });
  }

  return {
    send,
    async close() {
      clock.stop();
      await agent.close();
    },
  };
}

function isTlsCode(code: string): boolean {
  return (
    code.startsWith("ERR_TLS") ||
    code.startsWith("ERR_SSL") ||
    code.startsWith("CERT_") ||
    code.includes("SELF_SIGNED") ||
    code.startsWith("UNABLE_TO_") ||
    code === "HOSTNAME_MISMATCH" ||
    code === "DEPTH_ZERO_SELF_SIGNED_CERT"
  );
}

/** The `Retry-After` of undici's raw headers (name, value, name, value…), in ms from now. */
function retryAfterOf(raw: readonly (Buffer | string)[]): number | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toString().toLowerCase() === "retry-after") return parseRetryAfter(raw[i + 1]!.toString(), Date.now());
  }
  return undefined;
}
