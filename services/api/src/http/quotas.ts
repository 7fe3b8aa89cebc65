import type { QuotaRefusal } from "@runhooks/db";
import type { FastifyReply } from "fastify";
import { LIMIT_VARIABLES } from "../limits.js";
import { sendError } from "./errors.js";

/** What the answer says: the quota, where the tenant stands, the variable, and what to do. */
export function describeQuotaRefusal(refusal: QuotaRefusal): {
  status: 403 | 429;
  message: string;
  retryAfterS?: number;
} {
  const variable = LIMIT_VARIABLES[refusal.quota];
  switch (refusal.quota) {
    case "rules_per_tenant":
      return {
        status: 403,
        message:
          `the tenant has ${refusal.current} rules; the limit is ${refusal.limit} per tenant (${variable}): ` +
          "delete rules it no longer needs, or ask the operator to raise the limit",
      };
    case "rule_versions_per_minute": {
      const retryAfterS = Math.ceil(refusal.retryAfterMs / 1000);
      return {
        status: 429,
        retryAfterS,
        message:
          `the tenant wrote ${refusal.current} rule versions in the last minute; the limit is ${refusal.limit} per minute ` +
          `(${variable}): retry in ${retryAfterS} s`,
      };
    }
  }
}

export function sendQuotaRefusal(reply: FastifyReply, refusal: QuotaRefusal): FastifyReply {
  const { status, message, retryAfterS } = describeQuotaRefusal(refusal);
  if (retryAfterS !== undefined) void reply.header("retry-after", String(retryAfterS));
  return sendError(reply, status, "quota_exceeded", message, {
    quota: {
      name: refusal.quota,
      limit: refusal.limit,
      current: refusal.current,
      variable: LIMIT_VARIABLES[refusal.quota],
    },
  });
}
