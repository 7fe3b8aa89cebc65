import { cancelBackfill, getRule, listBackfills } from "@runhooks/db";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { backfillView } from "../backfill/backfill-view.js";
import {
  beforeRetentionAnswer,
  checkBackfillRange,
  startBackfill,
  type BackfillDeps,
  type RangeCheck,
} from "../backfill/start-backfill.js";
import { notFound, sendError, sendIssues } from "./errors.js";
import { ruleIdOr400, type IdParams } from "./rule-refusals.js";

const BackfillBody = z.looseObject({ from: z.unknown(), to: z.unknown().optional() });
const BackfillId = z.uuid();

/** Answers a refused range: 400 with the issues, or naming the earliest time the runs topic holds. */
export function sendRangeRefusal(
  reply: FastifyReply,
  check: Extract<RangeCheck, { ok: false }>,
  fromPath = "from",
): FastifyReply {
  if (check.kind === "invalid") return sendIssues(reply, "invalid_request", check.issues);
  if (check.kind === "unavailable")
    return sendError(
      reply.header("retry-after", "5"),
      503,
      "runs_log_unavailable",
      "the runs topic could not be read to check the range against its retention; nothing was created: retry",
    );
  return reply.code(400).send(beforeRetentionAnswer(check.earliestMs, fromPath));
}

/**
 * Backfills (DESIGN.md §4 "Backfills"), in the API-key scope:
 * - `POST /rules/:id/backfill {"from", "to"?}` — judge the runs of a past range by the rule's current
 *   version (202; 409 while another backfill of the rule is pending or running)
 * - `GET /rules/:id/backfills` — the rule's backfills, newest first, with their progress
 * - `POST /rules/:id/backfills/:bid/cancel`
 */
export function registerBackfillRoutes(app: FastifyInstance, deps: BackfillDeps): void {
  const { db } = deps;
  app.post("/rules/:id/backfill", async (request: FastifyRequest<{ Params: IdParams }>, reply) => {
    const id = ruleIdOr400(request, reply);
    if (id === undefined) return reply;
    const body = BackfillBody.safeParse(request.body ?? {});
    if (!body.success)
      return sendIssues(reply, "invalid_request", [{ path: "(root)", message: "must be a JSON object" }]);
    const rule = await getRule(db, request.tenantId, id);
    if (!rule) return notFound(reply);
    const now = Date.now();
    const range = await checkBackfillRange(deps, body.data.from, body.data.to, now);
    if (!range.ok) return sendRangeRefusal(reply, range);
    const started = await startBackfill(db, request.tenantId, id, rule.version, range);
    if (started.kind === "already_running")
      return sendError(reply, 409, "backfill_running", "a backfill of this rule is already pending or running", {
        backfill: backfillView(started.backfill, now),
      });
    return reply.code(202).send(backfillView(started.backfill, now));
  });

  app.get("/rules/:id/backfills", async (request: FastifyRequest<{ Params: IdParams }>, reply) => {
    const id = ruleIdOr400(request, reply);
    if (id === undefined) return reply;
    const now = Date.now();
    const backfills = await listBackfills(db, request.tenantId, id);
    return reply.send({ rule_id: id, backfills: backfills.map((b) => backfillView(b, now)) });
  });

  app.post(
    "/rules/:id/backfills/:bid/cancel",
    async (request: FastifyRequest<{ Params: IdParams & { bid: string } }>, reply) => {
      const id = ruleIdOr400(request, reply);
      if (id === undefined) return reply;
      const bid = BackfillId.safeParse(request.params.bid);
      if (!bid.success) return sendIssues(reply, "invalid_request", [{ path: "bid", message: "must be a UUID" }]);
      const result = await cancelBackfill(db, request.tenantId, id, bid.data);
      const now = Date.now();
      switch (result.kind) {
        case "not_found":
          return notFound(reply, "backfill");
        case "ended":
          return sendError(reply, 409, "backfill_ended", `the backfill has already ${result.backfill.state}`, {
            backfill: backfillView(result.backfill, now),
          });
        case "cancelled":
          return reply.send(backfillView(result.backfill, now));
      }
    },
  );
}
