import { z } from "zod";
import { Run, formatPath, type FieldIssue } from "@runhooks/contracts";
import {
  deleteRule,
  getRule,
  listRules,
  ruleHistory,
  saveRule,
  type Database,
  type RuleQuotas,
  type SaveMode,
  type SaveRuleResult,
} from "@runhooks/db";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { DEFAULT_DRY_RUN_STEPS, dryRun } from "../rules/dry-run.js";
import {
  expectedVersion,
  issuesOf,
  nestIssues,
  parseIfMatch,
  parseRuleDocument,
  parseRuleId,
  withoutUnsendableHeaders,
} from "../rules/rule-input.js";
import { patchRule } from "../rules/patch-rule.js";
import { etag, ruleEventView, ruleView } from "../rules/rule-view.js";
import { backfillView } from "../backfill/backfill-view.js";
import { checkBackfillRange, startBackfill, type BackfillDeps } from "../backfill/start-backfill.js";
import { sendRangeRefusal } from "./backfills-routes.js";
import { notFound, sendError, sendIssues } from "./errors.js";
import { ruleIdOr400, sendDeleteRefusal, sendSaveRefusal, type IdParams } from "./rule-refusals.js";

/**
 * What one `POST /rules/test` may ask for: enough to try a rule on a real sample, small enough to
 * answer at once without holding up the other requests of the process (the work is synchronous).
 */
export interface DryRunRouteLimits {
  /** Runs per request (RUNHOOKS_API_DRY_RUN_MAX_RUNS). */
  readonly maxRuns: number;
  /** Request body bytes (RUNHOOKS_API_DRY_RUN_MAX_BYTES). */
  readonly maxBytes: number;
  /** Filter steps per request, verdicts and explanations together (RUNHOOKS_API_DRY_RUN_MAX_STEPS). */
  readonly maxSteps: number;
}

export const DEFAULT_DRY_RUN_ROUTE_LIMITS: DryRunRouteLimits = {
  maxRuns: 1000,
  maxBytes: 4 * 1024 * 1024,
  maxSteps: DEFAULT_DRY_RUN_STEPS,
};

declare module "fastify" {
  interface FastifyRequest {
    /** The tenant of the request's API key, set by the auth hook. */
    tenantId: string;
  }
}

/** Turns a store answer into the HTTP one. */
function answerSave(
  reply: FastifyReply,
  result: SaveRuleResult,
  sent: number | undefined,
  dryRun = false,
): FastifyReply {
  if (!result.ok) return sendSaveRefusal(reply, result, sent);
  if (!dryRun) void reply.header("etag", etag(result.record.version));
  return reply
    .code(result.outcome === "created" && !dryRun ? 201 : 200)
    .send({ result: result.outcome, ...(dryRun ? { dry_run: true } : {}), rule: ruleView(result.record) });
}

const DryRunRequest = z.strictObject({
  rule: z.unknown(),
  runs: z.array(z.unknown()),
});

/** `quotas`: the per-tenant rule quotas every write is checked against (in the store's transaction). */
export function registerRuleRoutes(
  app: FastifyInstance,
  db: Database,
  quotas: RuleQuotas,
  dryRunLimits: Partial<DryRunRouteLimits> = {},
  backfills: BackfillDeps = { db },
): void {
  const limits: DryRunRouteLimits = { ...DEFAULT_DRY_RUN_ROUTE_LIMITS, ...dryRunLimits };
  async function write(
    request: FastifyRequest<{ Params: Partial<IdParams>; Querystring: { dry_run?: string } }>,
    reply: FastifyReply,
    mode: SaveMode,
  ): Promise<FastifyReply> {
    let pathId: string | undefined;
    if (request.params.id !== undefined) {
      const id = parseRuleId(request.params.id);
      if (!id.ok) return sendIssues(reply, "invalid_request", id.issues);
      pathId = id.value;
    }
    const ifMatch = parseIfMatch(request.headers["if-match"]);
    if (!ifMatch.ok) return sendIssues(reply, "invalid_request", ifMatch.issues);
    // `backfill_from` (create only) is not part of the rule: it starts a backfill of the new version.
    let body: unknown = request.body;
    let backfillFrom: unknown;
    if (mode === "create" && typeof body === "object" && body !== null && "backfill_from" in body) {
      const { backfill_from, ...rest } = body as Record<string, unknown>;
      backfillFrom = backfill_from;
      body = rest;
    }
    const document = parseRuleDocument(body, { tenantId: request.tenantId, pathId });
    if (!document.ok) return sendIssues(reply, "invalid_rule", document.issues);
    const expected = expectedVersion(ifMatch.value, document.value.version);
    if (!expected.ok) return sendIssues(reply, "invalid_request", expected.issues);
    const dry = request.query.dry_run === "true" || request.query.dry_run === "1";
    if (backfillFrom !== undefined && backfillFrom !== null) {
      // Checked before the rule is saved: a refused range creates nothing.
      const range = await checkBackfillRange(backfills, backfillFrom, undefined, Date.now(), "backfill_from");
      if (!range.ok) return sendRangeRefusal(reply, range, "backfill_from");
      const result = await saveRule(db, {
        tenantId: request.tenantId,
        rule: document.value.rule,
        mode,
        expectedVersion: expected.value,
        dryRun: dry,
        quotas,
      });
      if (!result.ok || dry) return answerSave(reply, result, expected.value, dry);
      const started = await startBackfill(db, request.tenantId, result.record.rule.id, result.record.version, range);
      return reply
        .header("etag", etag(result.record.version))
        .code(201)
        .send({
          result: result.outcome,
          rule: ruleView(result.record),
          backfill: backfillView(started.backfill, Date.now()),
        });
    }
    const result = await saveRule(db, {
      tenantId: request.tenantId,
      rule: document.value.rule,
      mode,
      expectedVersion: expected.value,
      dryRun: dry,
      quotas,
    });
    return answerSave(reply, result, expected.value, dry);
  }

  app.post("/rules", (request: FastifyRequest<{ Querystring: { dry_run?: string } }>, reply) =>
    write(request as FastifyRequest<{ Params: Partial<IdParams>; Querystring: { dry_run?: string } }>, reply, "create"),
  );

  /** Idempotent upsert for GitOps: created, updated or unchanged, compared with the stored version. */
  app.put("/rules/:id", (request: FastifyRequest<{ Params: IdParams; Querystring: { dry_run?: string } }>, reply) =>
    write(request, reply, "upsert"),
  );

  app.get("/rules", async (request) => ({ rules: (await listRules(db, request.tenantId)).map(ruleView) }));

  app.get("/rules/:id", async (request: FastifyRequest<{ Params: IdParams }>, reply) => {
    const id = ruleIdOr400(request, reply);
    if (id === undefined) return reply;
    const record = await getRule(db, request.tenantId, id);
    if (!record) return notFound(reply);
    return reply.header("etag", etag(record.version)).send(ruleView(record));
  });

  /**
   * Changes some top-level fields of a rule (`{"enabled": false}`); the rest stays. Concurrency: the
   * version from `If-Match` or a `version` field, else the version the patch was applied to
   * (`patchRule`).
   */
  app.patch("/rules/:id", async (request: FastifyRequest<{ Params: IdParams }>, reply) => {
    const id = ruleIdOr400(request, reply);
    if (id === undefined) return reply;
    const ifMatch = parseIfMatch(request.headers["if-match"]);
    if (!ifMatch.ok) return sendIssues(reply, "invalid_request", ifMatch.issues);
    const patch: unknown = request.body;
    if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
      return sendIssues(reply, "invalid_rule", [
        { path: "(root)", message: "must be a JSON object of the fields to change" },
      ]);
    }
    const outcome = await patchRule(db, {
      tenantId: request.tenantId,
      ruleId: id,
      ifMatch: ifMatch.value,
      quotas,
      apply: (current) => {
        const merged: Record<string, unknown> = { ...current.rule, ...(patch as Record<string, unknown>) };
        if (!("webhooks" in patch)) merged["webhooks"] = withoutUnsendableHeaders(current.rule.webhooks);
        return parseRuleDocument(merged, { tenantId: request.tenantId, pathId: id });
      },
    });
    switch (outcome.kind) {
      case "not_found":
        return notFound(reply);
      case "invalid_rule":
      case "invalid_request":
        return sendIssues(reply, outcome.kind, outcome.issues);
      case "saved":
        return answerSave(reply, outcome.result, outcome.expected);
    }
  });

  app.delete("/rules/:id", async (request: FastifyRequest<{ Params: IdParams }>, reply) => {
    const id = ruleIdOr400(request, reply);
    if (id === undefined) return reply;
    const ifMatch = parseIfMatch(request.headers["if-match"]);
    if (!ifMatch.ok) return sendIssues(reply, "invalid_request", ifMatch.issues);
    const result = await deleteRule(db, {
      tenantId: request.tenantId,
      ruleId: id,
      expectedVersion: ifMatch.value,
      quotas,
    });
    if (!result.ok) return sendDeleteRefusal(reply, result, ifMatch.value);
    return reply.send({ result: "deleted", rule_id: id, version: result.version });
  });

  app.get("/rules/:id/history", async (request: FastifyRequest<{ Params: IdParams }>, reply) => {
    const id = ruleIdOr400(request, reply);
    if (id === undefined) return reply;
    const events = await ruleHistory(db, request.tenantId, id);
    if (events.length === 0) return notFound(reply);
    return reply.send({ rule_id: id, events: events.map(ruleEventView) });
  });

  /** Dry run: which of these runs the rule matches, why not, and the exact payloads it would send. */
  app.post(
    "/rules/test",
    {
      bodyLimit: limits.maxBytes,
      // The body limit's answer names its setting; any other error goes on to the API's handler.
      errorHandler: (error: FastifyError, _request, reply) => {
        if (error.code !== "FST_ERR_CTP_BODY_TOO_LARGE") throw error;
        void sendError(
          reply,
          413,
          "body_too_large",
          `the request body is over ${limits.maxBytes} bytes, the limit per dry run (RUNHOOKS_API_DRY_RUN_MAX_BYTES); send fewer or smaller runs`,
        );
      },
    },
    async (request, reply) => {
      const body = DryRunRequest.safeParse(request.body);
      if (!body.success) return sendIssues(reply, "invalid_request", issuesOf(body.error));
      if (body.data.runs.length > limits.maxRuns) {
        return sendError(
          reply,
          413,
          "too_many_runs",
          `the request has ${body.data.runs.length} runs; the limit is ${limits.maxRuns} per dry run (RUNHOOKS_API_DRY_RUN_MAX_RUNS)`,
        );
      }
      const issues: FieldIssue[] = [];
      const document = parseRuleDocument(body.data.rule, { tenantId: request.tenantId });
      if (!document.ok) issues.push(...nestIssues("rule", document.issues));
      const runs: Run[] = [];
      body.data.runs.forEach((input, index) => {
        // A sample run without a tenant_id is taken as the caller's (example files cannot know it).
        const withTenant =
          typeof input === "object" && input !== null && !Array.isArray(input) && !("tenant_id" in input)
            ? { ...input, tenant_id: request.tenantId }
            : input;
        const run = Run.safeParse(withTenant);
        if (run.success) runs.push(run.data);
        else
          issues.push(
            ...issuesOf(run.error).map((i) => ({
              ...i,
              path: `${formatPath(["runs", index])}${i.path === "(root)" ? "" : `.${i.path}`}`,
            })),
          );
      });
      if (issues.length > 0 || !document.ok) return sendIssues(reply, "invalid_request", issues);
      return reply.send(
        dryRun(document.value.rule, runs, {
          maxSteps: limits.maxSteps,
          maxStepsSetting: "RUNHOOKS_API_DRY_RUN_MAX_STEPS",
        }),
      );
    },
  );
}
