import { ruleErrorSummary, type Database } from "@runhooks/db";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { parseRuleId } from "../rules/rule-input.js";
import { notFound, sendError, sendIssues } from "./errors.js";

/** Samples per answer: `?limit=` (default 20, at most 100). */
export const RULE_ERROR_SAMPLES_DEFAULT = 20;
export const RULE_ERROR_SAMPLES_MAX = 100;

interface ErrorsRequest {
  Params: { id: string };
  Querystring: { limit?: string };
}

/**
 * `GET /rules/:id/errors`: the runs the rule's filter could not judge, for the rule's own tenant only
 * (404 for anyone else): counts per version, and the latest samples (run id, log time, the filter's
 * error; never the run's contents).
 */
export function registerRuleErrorRoutes(app: FastifyInstance, db: Database): void {
  app.get("/rules/:id/errors", async (request: FastifyRequest<ErrorsRequest>, reply: FastifyReply) => {
    const id = parseRuleId(request.params.id);
    if (!id.ok) return sendIssues(reply, "invalid_request", id.issues);
    const raw = request.query.limit;
    const limit = raw === undefined ? RULE_ERROR_SAMPLES_DEFAULT : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > RULE_ERROR_SAMPLES_MAX) {
      return sendError(
        reply,
        400,
        "invalid_request",
        `limit must be a whole number from 1 to ${RULE_ERROR_SAMPLES_MAX}`,
        {
          issues: [{ path: "limit", message: `must be a whole number from 1 to ${RULE_ERROR_SAMPLES_MAX}` }],
        },
      );
    }
    const summary = await ruleErrorSummary(db, request.tenantId, id.value, limit);
    if (summary === undefined) return notFound(reply);
    return reply.send({
      rule_id: id.value,
      versions: summary.versions.map((v) => ({
        version: v.ruleVersion,
        errors: v.errors,
        first_at: v.firstAt.toISOString(),
        last_at: v.lastAt.toISOString(),
      })),
      samples: summary.samples.map((s) => ({
        version: s.ruleVersion,
        run_id: s.runId,
        log_time: s.logTime.toISOString(),
        error: s.error,
        count: s.count,
      })),
    });
  });
}
