import {
  deleteRule,
  latestBackfills,
  listRules,
  saveRule,
  type Database,
  type RuleQuotas,
  type RuleRecord,
  type SaveRuleResult,
} from "@runhooks/db";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { parseLangSmithRuleQuery, selectLangSmithRules } from "../rules/langsmith-rule-query.js";
import {
  createdRuleDocument,
  langSmithIssues,
  langSmithRuleView,
  patchedRuleDocument,
  ruleFieldsFromLangSmith,
} from "../rules/langsmith-rule.js";
import { patchRule } from "../rules/patch-rule.js";
import { checkBackfillRange, startBackfill, type BackfillDeps } from "../backfill/start-backfill.js";
import { sendRangeRefusal } from "./backfills-routes.js";
import { parseIfMatch, parseRuleDocument } from "../rules/rule-input.js";
import { etag } from "../rules/rule-view.js";
import { notFound, sendIssues } from "./errors.js";
import { ruleIdOr400, sendDeleteRefusal, sendSaveRefusal, type IdParams } from "./rule-refusals.js";

/**
 * The names of a tenant's tracing projects, by id, for the `session_name` of LangSmith-shaped rules.
 * An id it does not know is answered with `session_name: null`.
 */
export type SessionNameLookup = (
  tenantId: string,
  sessionIds: readonly string[],
) => Promise<ReadonlyMap<string, string>>;

/** No project store: every `session_name` is null. */
export const NO_SESSION_NAMES: SessionNameLookup = () => Promise.resolve(new Map());

export interface LangSmithRuleRouteOptions {
  readonly db: Database;
  /** The per-tenant rule quotas, the same as the native routes'. */
  readonly quotas: RuleQuotas;
  /** Where `session_name` comes from (default: nowhere, null). */
  readonly sessionNames?: SessionNameLookup;
  /** Where `backfill_from` starts a backfill (default: the store alone, the range unchecked against retention). */
  readonly backfills?: BackfillDeps;
}

const PATH = "/api/v1/runs/rules";

/**
 * LangSmith's rules API (`/api/v1/runs/rules`) over the same rule store as `/rules`: the same
 * validation, quotas, history, outbox and tenant scoping; only the document's shape differs
 * (`rules/langsmith-rule.ts`). Answers are LangSmith's (`RunRulesSchema`, 200); refusals are
 * runhooks' (`{error, message, issues}`, named as the LangSmith body names the fields). Must be
 * registered in the API-key scope (`request.tenantId`).
 */
export function registerLangSmithRuleRoutes(app: FastifyInstance, options: LangSmithRuleRouteOptions): void {
  const { db, quotas } = options;
  const sessionNames = options.sessionNames ?? NO_SESSION_NAMES;

  async function views(tenantId: string, records: readonly RuleRecord[]) {
    const sessionIds = [...new Set(records.flatMap((r) => (r.rule.session_id ? [r.rule.session_id] : [])))];
    const names = sessionIds.length === 0 ? new Map<string, string>() : await sessionNames(tenantId, sessionIds);
    const backfills = await latestBackfills(
      db,
      tenantId,
      records.map((r) => r.rule.id),
    );
    return records.map((r) =>
      langSmithRuleView(r, r.rule.session_id ? (names.get(r.rule.session_id) ?? null) : null, backfills.get(r.rule.id)),
    );
  }

  async function answerSave(
    request: FastifyRequest,
    reply: FastifyReply,
    result: SaveRuleResult,
    sent: number | undefined,
  ): Promise<FastifyReply> {
    if (!result.ok) {
      const refusal = result.reason === "invalid" ? { ...result, issues: langSmithIssues(result.issues) } : result;
      return sendSaveRefusal(reply, refusal, sent);
    }
    const [view] = await views(request.tenantId, [result.record]);
    return reply.header("etag", etag(result.record.version)).send(view);
  }

  app.get(PATH, async (request: FastifyRequest<{ Querystring: Record<string, unknown> }>, reply) => {
    const query = parseLangSmithRuleQuery(request.query);
    if (!query.ok) return sendIssues(reply, "invalid_request", query.issues);
    const records = selectLangSmithRules(await listRules(db, request.tenantId), query.value);
    return reply.send(await views(request.tenantId, records));
  });

  app.post(PATH, async (request, reply) => {
    const fields = ruleFieldsFromLangSmith(request.body);
    if (!fields.ok) return sendIssues(reply, "invalid_rule", fields.issues);
    // `backfill_from` is not part of the rule: it starts a backfill of the new version.
    const { backfill_from: backfillFrom, ...ruleFields } = fields.value;
    const document = parseRuleDocument(createdRuleDocument(ruleFields), { tenantId: request.tenantId });
    if (!document.ok) return sendIssues(reply, "invalid_rule", langSmithIssues(document.issues));
    let range: { fromMs: number; toMs: undefined } | undefined;
    if (backfillFrom !== undefined) {
      // Checked before the rule is saved: a refused range creates nothing.
      const check = await checkBackfillRange(
        options.backfills ?? { db },
        backfillFrom,
        undefined,
        Date.now(),
        "backfill_from",
      );
      if (!check.ok) return sendRangeRefusal(reply, check, "backfill_from");
      range = { fromMs: check.fromMs, toMs: undefined };
    }
    const result = await saveRule(db, {
      tenantId: request.tenantId,
      rule: document.value.rule,
      mode: "create",
      quotas,
    });
    if (result.ok && range !== undefined)
      await startBackfill(db, request.tenantId, result.record.rule.id, result.record.version, range);
    return answerSave(request, reply, result, undefined);
  });

  /**
   * LangSmith sends the whole rule; runhooks also takes part of one: the fields sent change, the
   * others stay (`null` means LangSmith's "none": no filter, every project, no webhooks).
   * Concurrency as on `/rules`: `If-Match`, else the version the patch was applied to.
   */
  app.patch(PATH + "/:id", async (request: FastifyRequest<{ Params: IdParams }>, reply) => {
    const id = ruleIdOr400(request, reply);
    if (id === undefined) return reply;
    const ifMatch = parseIfMatch(request.headers["if-match"]);
    if (!ifMatch.ok) return sendIssues(reply, "invalid_request", ifMatch.issues);
    // The body's own refusals first, before anything is read.
    const checked = ruleFieldsFromLangSmith(request.body);
    if (!checked.ok) return sendIssues(reply, "invalid_rule", checked.issues);
    const outcome = await patchRule(db, {
      tenantId: request.tenantId,
      ruleId: id,
      ifMatch: ifMatch.value,
      quotas,
      apply: (current) => {
        const fields = ruleFieldsFromLangSmith(request.body, current.rule);
        if (!fields.ok) return fields;
        // `backfill_from` applies when a rule is created; a patch takes a backfill from POST /rules/:id/backfill.
        const { backfill_from: _backfillFrom, ...changed } = fields.value;
        const document = parseRuleDocument(patchedRuleDocument(current.rule, changed), {
          tenantId: request.tenantId,
          pathId: id,
        });
        return document.ok ? document : { ok: false, issues: langSmithIssues(document.issues) };
      },
    });
    switch (outcome.kind) {
      case "not_found":
        return notFound(reply);
      case "invalid_rule":
      case "invalid_request":
        return sendIssues(reply, outcome.kind, outcome.issues);
      case "saved":
        return answerSave(request, reply, outcome.result, outcome.expected);
    }
  });

  app.delete(PATH + "/:id", async (request: FastifyRequest<{ Params: IdParams }>, reply) => {
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
    return reply.send({});
  });
}
