import { projectNames, sql, type Database } from "@runhooks/db";
import { fastify, type FastifyError, type FastifyInstance, type FastifyServerOptions } from "fastify";
import { countRequest, type ApiCounters } from "../metrics.js";
import { registerAdminRoutes } from "./admin-routes.js";
import type { BackfillDeps } from "../backfill/start-backfill.js";
import { registerBackfillRoutes } from "./backfills-routes.js";
import { deliveriesRoutes } from "./deliveries-routes.js";
import { webhooksRoutes } from "./webhooks-routes.js";
import { registerLangSmithRuleRoutes } from "./langsmith-rules-routes.js";
import { RateLimitedError, apiKeyGuard, presentedKey, sameSecret } from "./auth.js";
import { errorAnswer } from "./error-answer.js";
import { sendError } from "./errors.js";
import { DEFAULT_API_LIMITS, type ApiLimits } from "../limits.js";
import { registerProjectRoutes } from "./projects-routes.js";
import { registerRuleErrorRoutes } from "./rule-errors-routes.js";
import { registerRotateSecretRoute } from "./rotate-secret-route.js";
import { registerRuleRoutes, type DryRunRouteLimits } from "./rules-routes.js";

export interface AppOptions {
  readonly db: Database;
  /** Unset: the admin routes answer 401 to everyone. */
  readonly adminKey?: string | undefined;
  /** Fastify's logger (pino) options, or false. Secrets are redacted whatever is passed. */
  readonly logger?: FastifyServerOptions["logger"];
  /** Counts every answer (by method, route, status) for /metrics. */
  readonly counters?: ApiCounters;
  /** Prometheus text for `GET /metrics` (unset: no such route). */
  readonly metrics?: () => Promise<string>;
  /** Per-tenant quotas (default DEFAULT_API_LIMITS). */
  readonly limits?: ApiLimits;
  /** Caps on `POST /rules/test` (defaults: `DEFAULT_DRY_RUN_ROUTE_LIMITS`). */
  readonly dryRun?: Partial<DryRunRouteLimits>;
  /** Requests per API key: default 100 per second, bursts of 1,000 (RUNHOOKS_API_RATE_PER_S, _BURST). */
  readonly rateLimit?: { readonly ratePerSecond: number; readonly burst: number };
  /** How long a wrong API key is refused without asking Postgres again (default 5,000 ms). */
  readonly wrongKeyCacheMs?: number;
  /** Whether the runs topic still holds every run since a time (backfills); unset: not checked. */
  readonly runsLog?: BackfillDeps["runsLog"];
}

/** Header values pino must never print. Bodies are never logged at all. */
export const REDACTED_LOG_PATHS = [
  'req.headers["x-api-key"]',
  "req.headers.authorization",
  "req.headers.cookie",
  'res.headers["set-cookie"]',
];

function loggerOptions(logger: AppOptions["logger"]): FastifyServerOptions["logger"] {
  if (logger === false || logger === undefined) return false;
  const base = logger === true ? {} : logger;
  return { ...base, redact: { paths: REDACTED_LOG_PATHS, censor: "***" } };
}

/**
 * The HTTP API: rules (native and LangSmith-shaped), deliveries and projects (per tenant, by API key),
 * admin (by the admin key), health.
 */
export function buildApp(options: AppOptions): FastifyInstance {
  const { db } = options;
  const limits = options.limits ?? DEFAULT_API_LIMITS;
  const app = fastify({ logger: loggerOptions(options.logger), bodyLimit: 1024 * 1024 });
  const keys = apiKeyGuard(db, {
    rate: options.rateLimit ?? { ratePerSecond: 100, burst: 1_000 },
    wrongKeyCacheMs: options.wrongKeyCacheMs ?? 5_000,
  });

  app.setErrorHandler((error: FastifyError | RateLimitedError, request, reply) => {
    const answer = errorAnswer(error);
    if (answer.unexpected) request.log.error({ err: error }, "request failed");
    if (answer.retryAfterSeconds !== undefined) reply.header("retry-after", String(answer.retryAfterSeconds));
    return reply.code(answer.status).send(answer.body);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, "not_found", `no route ${request.method} ${request.url.split("?")[0]}`),
  );

  const { counters, metrics } = options;
  if (counters) {
    app.addHook("onResponse", (request, reply, done) => {
      countRequest(counters, request.method, request.routeOptions.url ?? "unknown", reply.statusCode);
      done();
    });
  }
  if (metrics)
    app.get("/metrics", async (_request, reply) => reply.type("text/plain; version=0.0.4").send(await metrics()));

  app.get("/healthz", async (_request, reply) => {
    try {
      await db.query(sql`SELECT 1`);
      return { status: "ok" };
    } catch {
      return reply.code(503).send({ status: "unavailable", message: "the database does not answer" });
    }
  });

  void app.register((scope, _opts, done) => {
    scope.decorateRequest("tenantId", "");
    scope.addHook("onRequest", async (request, reply) => {
      const key = presentedKey(request);
      if (key === undefined) {
        return sendError(
          reply,
          401,
          "unauthorized",
          "missing API key: send it in the x-api-key header (or Authorization: Bearer <key>)",
        );
      }
      // Valid and within its rate; a wrong key is answered from the cache of wrong keys.
      const admission = await keys.admit(request);
      if (admission.ok) {
        request.tenantId = admission.principal;
        return undefined;
      }
      if (admission.reason === "rate_limited") throw new RateLimitedError(admission.retryAfterMs, keys.rate);
      return sendError(reply, 401, "unauthorized", "invalid or revoked API key");
    });
    const backfills: BackfillDeps = { db, runsLog: options.runsLog };
    registerRuleRoutes(scope, db, limits.rules, options.dryRun, backfills);
    registerRotateSecretRoute(scope, db, limits.rules);
    registerBackfillRoutes(scope, backfills);
    registerLangSmithRuleRoutes(scope, {
      db,
      quotas: limits.rules,
      backfills,
      sessionNames: (tenantId, ids) => projectNames(db, tenantId, ids),
    });
    registerRuleErrorRoutes(scope, db);
    registerProjectRoutes(scope, db);
    done();
  });

  void app.register((scope, _opts, done) => {
    scope.addHook("onRequest", async (request, reply) => {
      const key = presentedKey(request);
      if (options.adminKey === undefined) {
        return sendError(
          reply,
          401,
          "unauthorized",
          "the admin API is disabled: start the API with RUNHOOKS_ADMIN_KEY set",
        );
      }
      if (key === undefined || !sameSecret(key, options.adminKey)) {
        return sendError(reply, 401, "unauthorized", "the admin routes need the admin key (RUNHOOKS_ADMIN_KEY)");
      }
      return undefined;
    });
    registerAdminRoutes(scope, db);
    done();
  });

  // Its own plugin: it answers 401 itself, from the same key lookup (rate included).
  void app.register(
    deliveriesRoutes({ db, tenantOf: (request) => keys.tenantOf(request), maxReplayRangeMs: limits.maxReplayRangeMs }),
  );
  void app.register(webhooksRoutes({ db, tenantOf: (request) => keys.tenantOf(request) }));
  return app;
}
