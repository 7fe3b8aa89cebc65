import { MAX_RESPONSE_EXCERPT_BYTES, redactText } from "@runhooks/contracts";
import { Agent, type Dispatcher } from "undici";
import type { AddressPolicy } from "./address-policy.js";
import type { AttemptResult } from "./attempt-result.js";
import { SSRF_BLOCKED, guardedConnector } from "./connector.js";
import type { Target } from "./target.js";

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
export function failureKind(code: string | undefined, name?: string): "connect_error" | "invalid_response" | "request_failed" {
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
  if (error instanceof Error) return error.name === "Error" && error.cause !== undefined ? nameOf(error.cause) : error.name;
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

/**
 * POSTs with undici: one keep-alive pool per origin (the Agent keeps them), redirects never followed
 * (undici follows none unless told to), a deadline for the whole response, and at most 1 KiB of the
 * body read — the rest is never read: the connection is destroyed instead.
 */
export function createSender(o: SenderOptions): Sender {
  const agent = new Agent({
    connections: o.connectionsPerOrigin,
    pipelining: 1,
    keepAliveTimeout: 4000,
    keepAliveMaxTimeout: 60_000,
    // Our own deadline (an abort signal) governs; these only backstop it.
    headersTimeout: o.deadlineMs + 1000,
    bodyTimeout: o.deadlineMs + 1000,
    connect: guardedConnector({ policy: o.policy, connectTimeoutMs: Math.min(o.connectTimeoutMs, o.deadlineMs) }),
  });

  async function send(r: SendRequest): Promise<AttemptResult> {
    const controller = new AbortController();
    let deadlinePassed = false;
    let statusCode: number | undefined;
    const timer = setTimeout(() => {
      deadlinePassed = true;
      controller.abort();
    }, o.deadlineMs);
    try {
      const response: Dispatcher.ResponseData = await agent.request({
        origin: r.target.origin,
        path: r.target.path,
        method: "POST",
        headers: r.headers,
        body: r.body,
        signal: controller.signal,
      });
      statusCode = response.statusCode;
      const excerpt = await readExcerpt(response.body, MAX_RESPONSE_EXCERPT_BYTES);
      return { kind: "response", statusCode, excerpt: excerpt === null ? null : scrub(excerpt, r.target.secrets) };
    } catch (error) {
      if (deadlinePassed) {
        const what = statusCode === undefined ? "no response" : `status ${statusCode} but the body did not complete`;
        return { kind: "timeout", error: `${what} within ${o.deadlineMs} ms` };
      }
      const code = codeOf(error);
      const text = scrub(`${code ?? "error"}: ${messageOf(error)}`, r.target.secrets);
      if (code === SSRF_BLOCKED) return { kind: "ssrf_blocked", error: scrub(messageOf(error), r.target.secrets) };
      // The status arrived but the body broke off (not by our deadline): the body is ignored anyway, so
      // the status decides.
      if (statusCode !== undefined) return { kind: "response", statusCode, excerpt: null };
      return { kind: failureKind(code, nameOf(error)), error: text };
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    send,
    async close() {
      await agent.close();
    },
  };
}

function isTlsCode(code: string): boolean {
  return code.startsWith("ERR_TLS") || code.startsWith("ERR_SSL") || code.startsWith("CERT_") || code.includes("SELF_SIGNED") || code.startsWith("UNABLE_TO_") || code === "HOSTNAME_MISMATCH" || code === "DEPTH_ZERO_SELF_SIGNED_CERT";
}

/**
 * Reads the body up to its end or `limit` bytes, whichever comes first; past the limit the stream is
 * destroyed (and with it the connection), so a huge body is never read whole. Null for an empty body.
 */
async function readExcerpt(body: Dispatcher.ResponseData["body"], limit: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) {
      body.destroy();
      break;
    }
  }
  if (size === 0) return null;
  const bytes = Buffer.concat(chunks, size).subarray(0, limit);
  return new TextDecoder("utf-8", { fatal: false }).decode(bytes);
}
