import type { IncomingMessage } from "node:http";
import { fastify, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { acceptOps, type AcceptDeps } from "./accept.js";
import { cachedKeyLookup, presentedKey } from "./auth.js";
import { BodyError, readBody, type BodyLimits } from "./body.js";
import type { Counters } from "./counters.js";
import { infoBody } from "./info.js";
import { boundaryOf, parseMultipart } from "./multipart.js";
import { normalizeOps } from "./run-input.js";
import { opFromSingle, opsFromBatch, opsFromParts, type Issue, type OpsResult } from "./run-ops.js";

export interface IngestAppOptions extends AcceptDeps {
  readonly version: string;
  readonly maxBodyBytes: number;
  readonly batchSize: number;
  readonly retryAfterSeconds: number;
  readonly keyCacheMs: number;
  readonly counters: Counters;
  /** Undefined when healthy; otherwise why not (answered 503 on /healthz). */
  readonly health: () => string | undefined;
  readonly metrics: () => Promise<string>;
}

function sendError(reply: FastifyReply, status: number, error: string, message: string, extra: object = {}): FastifyReply {
  return reply.code(status).send({ error, message, ...extra });
}

function sendIssues(reply: FastifyReply, issues: readonly Issue[]): FastifyReply {
  const message = issues.map((i) => `${i.part}: ${i.path}: ${i.message}`).join("; ");
  return reply.code(400).send({ error: "invalid_request", message, issues });
}

function json(body: Buffer, part: string): { ok: true; value: unknown } | { ok: false; issues: Issue[] } {
  try {
    return { ok: true, value: JSON.parse(body.toString("utf8")) as unknown };
  } catch (error) {
    return { ok: false, issues: [{ part, path: "(root)", message: `not valid JSON (${(error as Error).message})` }] };
  }
}

declare module "fastify" {
  interface FastifyRequest {
    tenantId: string;
  }
}

/**
 * The LangSmith-compatible ingestion API. Every run route authenticates the key, reads the whole body
 * (limits, Content-Encoding), turns it into run operations (400 naming part and field), and answers
 * 2xx only once `acceptOps` made them durable; 503 + Retry-After when Kafka or Postgres could not.
 */
export function buildIngestApp(o: IngestAppOptions): FastifyInstance {
  const app = fastify({ logger: false, bodyLimit: o.maxBodyBytes * 2 });
  const keys = cachedKeyLookup(o.db, o.keyCacheMs);
  const limits: BodyLimits = { wireBytes: o.maxBodyBytes, inflatedBytes: o.maxBodyBytes * 2 };

  // Every body is read by readBody (limits and decompression), whatever its content type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (request: FastifyRequest, payload: IncomingMessage, done: (err: Error | null, body?: unknown) => void) => {
    const encoding = (request.headers["content-encoding"] ?? "identity").toLowerCase();
    if (/^[a-z0-9-]{1,20}$/.test(encoding)) o.counters.encodings.set(encoding, (o.counters.encodings.get(encoding) ?? 0) + 1);
    readBody(payload, request.headers as { "content-length"?: string; "content-encoding"?: string }, limits).then(
      (body) => done(null, body),
      (error: Error) => done(error),
    );
  });

  app.setErrorHandler((error: FastifyError | BodyError, _request, reply) => {
    if (error instanceof BodyError) return sendError(reply, error.statusCode, error.code, error.message);
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return sendError(reply, status, status === 413 ? "body_too_large" : "invalid_request", error.message);
    return sendError(reply, 500, "internal", "internal error");
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, 404, "not_found", `no route ${request.method} ${request.url.split("?")[0]}`));
  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url ?? "unknown";
    const status = String(reply.statusCode);
    const key = `${route} ${status}`;
    const entry = o.counters.requests.get(key);
    if (entry) entry.count++;
    else o.counters.requests.set(key, { route, status, count: 1 });
    done();
  });

  const info = infoBody(o);
  app.get("/info", () => info);
  app.get("/healthz", (_request, reply) => {
    const problem = o.health();
    return problem === undefined ? { status: "ok" } : reply.code(503).send({ status: "unhealthy", reason: problem });
  });
  app.get("/metrics", async (_request, reply) => reply.type("text/plain; version=0.0.4").send(await o.metrics()));

  void app.register((scope, _opts, done) => {
    scope.decorateRequest("tenantId", "");
    // Authentication before the body is read: a wrong key costs no parsing.
    scope.addHook("onRequest", async (request, reply) => {
      const key = presentedKey(request.headers);
      if (key === undefined) return sendError(reply, 401, "unauthorized", "missing API key: send it in the x-api-key header");
      let tenant: string | undefined;
      try {
        tenant = await keys.tenantOf(key);
      } catch {
        o.counters.database_unavailable++;
        return reply.header("retry-after", String(o.retryAfterSeconds)).code(503).send({ error: "unavailable", message: "the key store (Postgres) does not answer; retry later" });
      }
      if (tenant === undefined) return sendError(reply, 401, "unauthorized", "invalid or revoked API key");
      request.tenantId = tenant;
      return undefined;
    });

    const handle = async (request: FastifyRequest, reply: FastifyReply, parsed: OpsResult) => {
      if (!parsed.ok) return sendIssues(reply, parsed.issues);
      o.counters.attachments_ignored += parsed.ignored.attachments;
      o.counters.feedback_ignored += parsed.ignored.feedback;
      const normalized = normalizeOps(parsed.ops, request.tenantId);
      if (!normalized.ok) return sendIssues(reply, normalized.issues);
      const outcome = await acceptOps(o, request.tenantId, normalized.ops, parsed.sent);
      if (outcome.ok) return reply.code(202).send({ accepted: normalized.ops.length });
      if (outcome.reason === "run_too_large") {
        return reply.code(413).send({ error: "run_too_large", message: outcome.issues.map((i) => `${i.part}: ${i.message}`).join("; "), issues: outcome.issues });
      }
      return reply.header("retry-after", String(o.retryAfterSeconds)).code(503).send({ error: outcome.reason, message: `${outcome.message}; nothing was accepted, retry later` });
    };
    const bodyOf = (request: FastifyRequest): Buffer => (Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0));

    scope.post("/runs", async (request, reply) => {
      const body = json(bodyOf(request), "(body)");
      return handle(request, reply, body.ok ? opFromSingle("post", body.value) : body);
    });
    scope.patch<{ Params: { id: string } }>("/runs/:id", async (request, reply) => {
      const body = json(bodyOf(request), "(body)");
      return handle(request, reply, body.ok ? opFromSingle("patch", body.value, request.params.id) : body);
    });
    scope.post("/runs/batch", async (request, reply) => {
      const body = json(bodyOf(request), "(body)");
      return handle(request, reply, body.ok ? opsFromBatch(body.value) : body);
    });
    scope.post("/runs/multipart", async (request, reply) => {
      const contentType = request.headers["content-type"] ?? "";
      const boundary = /^multipart\/form-data/i.test(contentType) ? boundaryOf(contentType) : undefined;
      if (boundary === undefined) {
        return sendIssues(reply, [{ part: "(body)", path: "content-type", message: "must be multipart/form-data with a boundary" }]);
      }
      const parts = parseMultipart(bodyOf(request), boundary);
      if (!parts.ok) return sendIssues(reply, [{ part: "(body)", path: "(multipart)", message: parts.message }]);
      return handle(request, reply, opsFromParts(parts.parts));
    });
    done();
  });
  return app;
}
