import type { IncomingMessage } from "node:http";
import { nestsDeeperThan, retryAfterSeconds } from "@runhooks/limits";
import type { Logger } from "@runhooks/telemetry";
import { fastify, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { acceptOps, type AcceptDeps } from "./accept.js";
import { sendAnswer, sendError, sendIssues, sendTooMany } from "./answers.js";
import { keyGuard } from "./auth.js";
import { readBody, type BodyError, type BodyLimits } from "./body.js";
import { countEncoding, type Counters } from "./counters.js";
import { errorAnswer, refusalAnswer } from "./error-answers.js";
import { infoBody } from "./info.js";
import { jsonBody } from "./json-body.js";
import { boundaryOf, parseMultipart } from "./multipart.js";
import { registerSessionRoutes } from "./sessions.js";
import { normalizeOps } from "./run-input.js";
import { deepBatchIssues, opFromSingle, opsFromBatch, opsFromParts, type OpsResult } from "./run-ops.js";

export interface IngestAppOptions extends AcceptDeps {
  readonly version: string;
  readonly maxBodyBytes: number;
  /** Run operations per request: `/info`'s size_limit, and the limit enforced (413). */
  readonly batchSize: number;
  readonly maxParts: number;
  readonly maxJsonDepth: number;
  readonly retryAfterSeconds: number;
  readonly keyCacheMs: number;
  readonly wrongKeyCacheMs: number;
  readonly ratePerSecond: number;
  readonly rateBurst: number;
  readonly timeouts: { readonly headersMs: number; readonly requestMs: number; readonly keepAliveMs: number };
  readonly maxConnections: number;
  readonly counters: Counters;
  readonly log: Logger;
  /** Undefined when healthy; otherwise why not (answered 503 on /healthz). */
  readonly health: () => string | undefined;
  readonly metrics: () => Promise<string>;
}

/** Routes anyone may call; every other request, unknown paths too, needs a valid key before its body is read. */
const PUBLIC_ROUTES: ReadonlySet<string> = new Set(["/info", "/healthz", "/metrics"]);

/**
 * Self-hosted LangSmith serves its API under `/api/v1` (`LANGSMITH_ENDPOINT=http://host/api/v1`), the
 * cloud at the root: every route answers both ways, the prefix dropped before routing (so metrics and
 * the key check see one route).
 */
export const API_PREFIX = "/api/v1";

export function withoutApiPrefix(url: string): string {
  if (!url.startsWith(API_PREFIX)) return url;
  const rest = url.slice(API_PREFIX.length);
  if (rest === "") return "/";
  if (rest[0] === "/") return rest;
  if (rest[0] === "?") return `/${rest}`;
  // `/api/v1x…`: another path.
  return url;
}

/** A batch body: its runs sit two levels down (`{"post": [run]}`), so they may nest as deep as a single run. */
function batchOps(body: Buffer, maxDepth: number): OpsResult {
  if (nestsDeeperThan(body, maxDepth + 2)) {
    const parsed = jsonBody(body, "(body)", Number.MAX_SAFE_INTEGER);
    return { ok: false, issues: parsed.ok ? deepBatchIssues(parsed.value, maxDepth) : parsed.issues };
  }
  const parsed = jsonBody(body, "(body)", Number.MAX_SAFE_INTEGER);
  return parsed.ok ? opsFromBatch(parsed.value) : parsed;
}

declare module "fastify" {
  interface FastifyRequest {
    tenantId: string;
  }
}

/**
 * The LangSmith-compatible ingestion API. Every request but /info, /healthz and /metrics is admitted by
 * its key (valid, within its rate) before its body is read; then the body is read (limits,
 * Content-Encoding), turned into run operations (400 naming part and field, 413 over a count limit),
 * and answered 2xx only once `acceptOps` made them durable; 503 + Retry-After when Kafka or Postgres
 * could not.
 */
export function buildIngestApp(o: IngestAppOptions): FastifyInstance {
  const app = fastify({
    logger: false,
    rewriteUrl: (request) => withoutApiPrefix(request.url ?? "/"),
    bodyLimit: o.maxBodyBytes * 2,
    requestTimeout: o.timeouts.requestMs,
    keepAliveTimeout: o.timeouts.keepAliveMs,
    // Node checks the header and request deadlines of open connections at this interval.
    http: {
      headersTimeout: o.timeouts.headersMs,
      requestTimeout: o.timeouts.requestMs,
      connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(o.timeouts.headersMs / 4))),
    },
  });
  app.server.maxConnections = o.maxConnections;
  const guard = keyGuard(o.db, {
    validKeyCacheMs: o.keyCacheMs,
    wrongKeyCacheMs: o.wrongKeyCacheMs,
    rate: { ratePerSecond: o.ratePerSecond, burst: o.rateBurst },
    onLookup: () => o.counters.key_lookups++,
  });
  const limits: BodyLimits = { wireBytes: o.maxBodyBytes, inflatedBytes: o.maxBodyBytes * 2 };

  // Every body is read by readBody (limits and decompression), whatever its content type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    "*",
    (request: FastifyRequest, payload: IncomingMessage, done: (err: Error | null, body?: unknown) => void) => {
      // An unknown path is answered 404 without its body: nothing is read, let alone inflated.
      if (request.routeOptions.url === undefined) return done(null, undefined);
      countEncoding(o.counters, request.headers["content-encoding"]);
      readBody(payload, request.headers as { "content-length"?: string; "content-encoding"?: string }, limits).then(
        (body) => done(null, body),
        (error: Error) => done(error),
      );
    },
  );

  app.setErrorHandler((error: FastifyError | BodyError, request, reply) =>
    sendAnswer(
      reply,
      errorAnswer(error, { method: request.method, route: request.routeOptions.url ?? "unknown" }),
      o.log,
    ),
  );
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, "not_found", `no route ${request.method} ${request.originalUrl.split("?")[0]}`),
  );
  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url ?? "unknown";
    const status = String(reply.statusCode);
    const key = `${route} ${status}`;
    const entry = o.counters.requests.get(key);
    if (entry) entry.count++;
    else o.counters.requests.set(key, { route, status, count: 1 });
    done();
  });

  app.decorateRequest("tenantId", "");
  // Before the body is read (onRequest): a wrong key, or one over its rate, costs no reading or parsing.
  app.addHook("onRequest", async (request, reply) => {
    const route = request.routeOptions.url;
    if (route !== undefined && PUBLIC_ROUTES.has(route)) return undefined;
    let admission;
    try {
      admission = await guard.admit(request.headers);
    } catch (error) {
      o.counters.database_unavailable++;
      o.log("warn", "the key store did not answer", { error: String(error) });
      return reply
        .header("retry-after", String(o.retryAfterSeconds))
        .code(503)
        .send({ error: "unavailable", message: "the key store (Postgres) does not answer; retry later" });
    }
    if (admission.ok) {
      request.tenantId = admission.principal;
      return undefined;
    }
    if (admission.reason !== "rate_limited") {
      return sendError(
        reply,
        401,
        "unauthorized",
        admission.reason === "missing_key"
          ? "missing API key: send it in the x-api-key header"
          : "invalid or revoked API key",
      );
    }
    const seconds = retryAfterSeconds(admission.retryAfterMs);
    return reply
      .header("retry-after", String(seconds))
      .code(429)
      .send({
        error: "rate_limited",
        message: `this API key sent more than ${o.ratePerSecond} requests per second (bursts of ${o.rateBurst}); retry after ${seconds} s (RUNHOOKS_INGEST_RATE_PER_S, RUNHOOKS_INGEST_RATE_BURST)`,
      });
  });

  const info = infoBody(o);
  app.get("/info", () => info);
  app.get("/healthz", (_request, reply) => {
    const problem = o.health();
    return problem === undefined ? { status: "ok" } : reply.code(503).send({ status: "unhealthy", reason: problem });
  });
  app.get("/metrics", async (_request, reply) => reply.type("text/plain; version=0.0.4").send(await o.metrics()));

  registerSessionRoutes(app, o);

  const handle = async (request: FastifyRequest, reply: FastifyReply, parsed: OpsResult) => {
    if (!parsed.ok) return sendIssues(reply, parsed.issues);
    if (parsed.ops.length > o.batchSize) {
      return sendTooMany(
        reply,
        "too_many_runs",
        `the request has ${parsed.ops.length} run operations; the limit is ${o.batchSize} per request (RUNHOOKS_INGEST_BATCH_SIZE, advertised as GET /info batch_ingest_config.size_limit): send smaller batches`,
      );
    }
    o.counters.attachments_ignored += parsed.ignored.attachments;
    o.counters.feedback_ignored += parsed.ignored.feedback;
    const normalized = normalizeOps(parsed.ops, request.tenantId);
    if (!normalized.ok) return sendIssues(reply, normalized.issues);
    const outcome = await acceptOps(o, request.tenantId, normalized.ops, parsed.sent);
    if (outcome.ok) return reply.code(202).send({ accepted: normalized.ops.length });
    return sendAnswer(reply, refusalAnswer(outcome, request.tenantId, o.retryAfterSeconds), o.log);
  };
  const bodyOf = (request: FastifyRequest): Buffer => (Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0));

  app.post("/runs", async (request, reply) => {
    const body = jsonBody(bodyOf(request), "(body)", o.maxJsonDepth);
    return handle(request, reply, body.ok ? opFromSingle("post", body.value) : body);
  });
  app.patch<{ Params: { id: string } }>("/runs/:id", async (request, reply) => {
    const body = jsonBody(bodyOf(request), "(body)", o.maxJsonDepth);
    return handle(request, reply, body.ok ? opFromSingle("patch", body.value, request.params.id) : body);
  });
  app.post("/runs/batch", async (request, reply) => handle(request, reply, batchOps(bodyOf(request), o.maxJsonDepth)));
  app.post("/runs/multipart", async (request, reply) => {
    const contentType = request.headers["content-type"] ?? "";
    const boundary = /^multipart\/form-data/i.test(contentType) ? boundaryOf(contentType) : undefined;
    if (boundary === undefined) {
      return sendIssues(reply, [
        { part: "(body)", path: "content-type", message: "must be multipart/form-data with a boundary" },
      ]);
    }
    const parts = parseMultipart(bodyOf(request), boundary, o.maxParts);
    if (!parts.ok) {
      if (parts.reason === "too_many_parts") {
        return sendTooMany(
          reply,
          "too_many_parts",
          `the body has more than ${parts.limit} parts; the limit is ${parts.limit} per request (RUNHOOKS_INGEST_MAX_PARTS): send smaller batches`,
        );
      }
      return sendIssues(reply, [{ part: "(body)", path: "(multipart)", message: parts.message }]);
    }
    return handle(request, reply, opsFromParts(parts.parts, o.maxJsonDepth));
  });
  return app;
}
