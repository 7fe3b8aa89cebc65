import type { DeleteRuleResult, RuleRecord, SaveRuleResult } from "@runhooks/db";
import type { FastifyReply, FastifyRequest } from "fastify";
import { parseRuleId } from "../rules/rule-input.js";
import { notFound, sendError, sendIssues } from "./errors.js";
import { sendQuotaRefusal } from "./quotas.js";

/**
 * The rule store's refusals as HTTP answers, the same for every API shape that writes rules (the
 * native `/rules` and LangSmith's `/api/v1/runs/rules`).
 */

export type SaveRefusal = Extract<SaveRuleResult, { ok: false }>;
export type DeleteRefusal = Extract<DeleteRuleResult, { ok: false }>;

/** 409: the rule is not at the version the client sent (or, without one, moved on under the write). */
export function sendConflict(reply: FastifyReply, current: RuleRecord | null, sent: number | undefined): FastifyReply {
  const message =
    current === null
      ? "the rule does not exist, so it cannot be at the version you sent"
      : `the rule is at version ${current.version}${sent === undefined ? "" : `, not ${sent}`}: read it again and retry`;
  return sendError(reply, 409, "version_conflict", message, { current_version: current?.version ?? null });
}

/** `sent`: the version the client asked for, if any (named in a conflict's message). */
export function sendSaveRefusal(reply: FastifyReply, refusal: SaveRefusal, sent: number | undefined): FastifyReply {
  switch (refusal.reason) {
    case "not_found":
      return notFound(reply);
    case "exists":
      return sendError(
        reply,
        409,
        "rule_exists",
        "a rule with this id already exists; use PUT /rules/:id or PATCH to change it",
      );
    case "id_taken":
      return sendError(reply, 409, "rule_id_taken", "this rule id is used by another tenant; give the rule another id");
    case "version_conflict":
      return sendConflict(reply, refusal.current, sent);
    case "invalid":
      return sendIssues(reply, "invalid_rule", refusal.issues);
    case "quota":
      return sendQuotaRefusal(reply, refusal.refusal);
  }
}

export function sendDeleteRefusal(reply: FastifyReply, refusal: DeleteRefusal, sent: number | undefined): FastifyReply {
  switch (refusal.reason) {
    case "quota":
      return sendQuotaRefusal(reply, refusal.refusal);
    case "not_found":
      return notFound(reply);
    case "version_conflict":
      return sendConflict(reply, refusal.current, sent);
  }
}

export interface IdParams {
  id: string;
}

/** The rule id of the URL, or undefined once a 400 naming it has been sent. */
export function ruleIdOr400(request: FastifyRequest<{ Params: IdParams }>, reply: FastifyReply): string | undefined {
  const id = parseRuleId(request.params.id);
  if (!id.ok) {
    void sendIssues(reply, "invalid_request", id.issues);
    return undefined;
  }
  return id.value;
}
