import { DeliveryStatus, Id, redactUrl, toFieldIssues } from "@runhooks/contracts";
import {
  getDelivery,
  listDeliveries,
  redeliver,
  replayRule,
  ruleHistory,
  type AttemptRecord,
  type Database,
  type DeliveryRecord,
} from "@runhooks/db";
import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { invalid, tenantGuard, type TenantOf } from "./route-guards.js";
import { decideReplayRange, describeDuration } from "../replay-range.js";

export interface DeliveriesRoutesOptions {
  readonly db: Database;
  /** The tenant a request acts for (from its API key); undefined answers 401. */
  readonly tenantOf: TenantOf;
  /** Longest `[from, to)` one replay may cover (`ApiLimits.maxReplayRangeMs`). */
  readonly maxReplayRangeMs: number;
}

const Timestamp = z.iso.datetime({ offset: true, error: "must be an ISO-8601 timestamp, e.g. 2024-04-05T01:28:54Z" });

const ListQuery = z.strictObject({
  rule_id: Id.optional(),
  status: DeliveryStatus.optional(),
  since: Timestamp.optional(),
  before: Timestamp.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const IdParams = z.strictObject({ id: Id });

const ReplayBody = z
  .strictObject({ from: Timestamp, to: Timestamp })
  .refine((b) => Date.parse(b.from) < Date.parse(b.to), { message: "must be after from", path: ["to"] });

/** A delivery as the API shows it: snake_case, no secret (the URL is stored redacted, and redacted again as redaction stands now). */
function deliveryJson(d: DeliveryRecord) {
  return {
    id: d.id,
    window_id: d.windowId,
    rule_id: d.ruleId,
    rule_version: d.ruleVersion,
    webhook_id: d.webhookId,
    url: redactUrl(d.url),
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.nextAttemptAt?.toISOString() ?? null,
    last_outcome: d.lastOutcome,
    last_status_code: d.lastStatusCode,
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
    completed_at: d.completedAt?.toISOString() ?? null,
  };
}

function attemptJson(a: AttemptRecord) {
  return {
    attempt: a.attempt,
    trigger: a.trigger,
    started_at: a.startedAt.toISOString(),
    duration_ms: a.durationMs,
    outcome: a.outcome,
    status_code: a.statusCode,
    error: a.error,
    response_excerpt: a.responseExcerpt,
    url: redactUrl(a.url),
  };
}

/**
 * The deliveries API as a fastify plugin, mounted by `buildApp` with the API's key lookup:
 *
 * - `GET /deliveries?rule_id=&status=&since=&before=&limit=` — the tenant's deliveries, newest first
 * - `GET /deliveries/:id` — one delivery with its attempts
 * - `POST /deliveries/:id/redeliver` — one more round for a finished delivery (trigger `manual`)
 * - `POST /rules/:id/replay {from, to}` — deliver again the rule's windows that started in [from, to)
 */
export function deliveriesRoutes(options: DeliveriesRoutesOptions): FastifyPluginAsync {
  const { db } = options;
  // eslint-disable-next-line @typescript-eslint/require-await -- fastify plugins are async functions
  return async (app) => {
    const tenant = tenantGuard(options.tenantOf);

    app.get("/deliveries", async (request, reply) => {
      const tenantId = await tenant(request, reply);
      if (tenantId === undefined) return reply;
      const query = ListQuery.safeParse(request.query);
      if (!query.success) return invalid(reply, "query", toFieldIssues(query.error));
      const q = query.data;
      const deliveries = await listDeliveries(db, tenantId, {
        ruleId: q.rule_id,
        status: q.status,
        since: q.since === undefined ? undefined : new Date(q.since),
        before: q.before === undefined ? undefined : new Date(q.before),
        limit: q.limit,
      });
      return { deliveries: deliveries.map(deliveryJson) };
    });

    app.get("/deliveries/:id", async (request, reply) => {
      const tenantId = await tenant(request, reply);
      if (tenantId === undefined) return reply;
      const params = IdParams.safeParse(request.params);
      if (!params.success) return invalid(reply, "path", toFieldIssues(params.error));
      const found = await getDelivery(db, tenantId, params.data.id);
      if (!found) return reply.code(404).send({ error: "not_found", message: "no such delivery" });
      return { ...deliveryJson(found.delivery), attempt_history: found.attempts.map(attemptJson) };
    });

    app.post("/deliveries/:id/redeliver", async (request, reply) => {
      const tenantId = await tenant(request, reply);
      if (tenantId === undefined) return reply;
      const params = IdParams.safeParse(request.params);
      if (!params.success) return invalid(reply, "path", toFieldIssues(params.error));
      const result = await redeliver(db, tenantId, params.data.id);
      if (result.ok) return reply.code(202).send(deliveryJson(result.delivery));
      if (result.reason === "not_found")
        return reply.code(404).send({ error: "not_found", message: "no such delivery" });
      if (result.reason === "body_expired")
        return reply.code(410).send({
          error: "body_expired",
          message: "the window's body is past retention (RUNHOOKS_RETENTION_BODY_DAYS); it cannot be sent again",
          delivery: deliveryJson(result.delivery),
        });
      if (result.reason === "cancelled")
        return reply.code(409).send({
          error: "cancelled",
          message: "the delivery was cancelled: its webhook is no longer in the rule (or the rule was deleted)",
          delivery: deliveryJson(result.delivery),
        });
      return reply.code(409).send({
        error: "in_progress",
        message: `the delivery is ${result.delivery.status}; it can be redelivered once it has succeeded, failed or been skipped`,
        delivery: deliveryJson(result.delivery),
      });
    });

    app.post("/rules/:id/replay", async (request, reply) => {
      const tenantId = await tenant(request, reply);
      if (tenantId === undefined) return reply;
      const params = IdParams.safeParse(request.params);
      if (!params.success) return invalid(reply, "path", toFieldIssues(params.error));
      const body = ReplayBody.safeParse(request.body ?? {});
      if (!body.success) return invalid(reply, "body", toFieldIssues(body.error));
      const range = decideReplayRange(Date.parse(body.data.from), Date.parse(body.data.to), options.maxReplayRangeMs);
      if (!range.ok) {
        return reply.code(422).send({
          error: "quota_exceeded",
          message:
            `the range covers ${describeDuration(range.rangeMs)}; the limit is ${describeDuration(range.maxMs)} per replay ` +
            "(RUNHOOKS_API_MAX_REPLAY_HOURS): split it into several replays",
          quota: {
            name: "replay_range",
            limit: range.maxMs / 1000,
            current: range.rangeMs / 1000,
            unit: "s",
            variable: "RUNHOOKS_API_MAX_REPLAY_HOURS",
          },
        });
      }
      const history = await ruleHistory(db, tenantId, params.data.id);
      if (history.length === 0) return reply.code(404).send({ error: "not_found", message: "no such rule" });
      const result = await replayRule(db, tenantId, params.data.id, new Date(body.data.from), new Date(body.data.to));
      return reply.code(202).send({
        rule_id: params.data.id,
        from: body.data.from,
        to: body.data.to,
        windows: result.windows,
        queued: result.queued,
        in_progress: result.inProgress,
      });
    });
  };
}
