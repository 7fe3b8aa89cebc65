import type { Logger } from "@runhooks/telemetry";
import type { FastifyReply } from "fastify";
import type { Answer } from "./error-answers.js";
import type { Issue } from "./run-ops.js";

/** Issues listed in an answer at most; the rest are counted (a body may hold thousands of bad parts). */
export const MAX_ISSUES_ANSWERED = 100;

export function sendError(
  reply: FastifyReply,
  status: number,
  error: string,
  message: string,
  extra: object = {},
): FastifyReply {
  return reply.code(status).send({ error, message, ...extra });
}

export function sendIssues(reply: FastifyReply, issues: readonly Issue[]): FastifyReply {
  const shown = issues.slice(0, MAX_ISSUES_ANSWERED);
  const more = issues.length - shown.length;
  const message =
    shown.map((i) => `${i.part}: ${i.path}: ${i.message}`).join("; ") + (more > 0 ? `; and ${more} more` : "");
  return reply
    .code(400)
    .send({ error: "invalid_request", message, issues: shown, ...(more > 0 ? { issues_total: issues.length } : {}) });
}

/** 413 for a request over a count limit, naming the limit and the variable that sets it. */
export function sendTooMany(reply: FastifyReply, error: string, message: string): FastifyReply {
  return sendError(reply, 413, error, message);
}

/** Sends an error answer, with Retry-After when it has one, after logging what it says to log. */
export function sendAnswer(reply: FastifyReply, answer: Answer, log: Logger): FastifyReply {
  if (answer.log) log(answer.log.level, answer.log.message, answer.log.fields);
  if (answer.retryAfterSeconds !== undefined) reply.header("retry-after", String(answer.retryAfterSeconds));
  return reply.code(answer.status).send(answer.body);
}
