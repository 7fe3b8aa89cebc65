import { describeIssues, type FieldIssue } from "@runhooks/contracts";
import type { FastifyReply } from "fastify";

/**
 * Every error answer has the same shape: `{error, message}`, plus `issues: [{path, message}]` when
 * the input was at fault, so a client can point at the offending field.
 */
export function sendIssues(reply: FastifyReply, error: string, issues: readonly FieldIssue[]): FastifyReply {
  return reply.code(400).send({ error, message: describeIssues(issues), issues });
}

export function sendError(
  reply: FastifyReply,
  status: number,
  error: string,
  message: string,
  extra: object = {},
): FastifyReply {
  return reply.code(status).send({ error, message, ...extra });
}

export const notFound = (reply: FastifyReply, what = "rule") =>
  sendError(reply, 404, "not_found", `no such ${what} (or it belongs to another tenant)`);
