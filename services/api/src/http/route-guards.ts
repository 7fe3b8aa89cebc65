import { describeIssues, type FieldIssue } from "@runhooks/contracts";
import type { FastifyReply, FastifyRequest } from "fastify";

/** How a route plugin learns the tenant of a request's API key (undefined: no valid key). */
export type TenantOf = (request: FastifyRequest) => string | undefined | Promise<string | undefined>;

/** The request's tenant; undefined once a 401 is sent. */
export function tenantGuard(tenantOf: TenantOf) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<string | undefined> => {
    const id = await tenantOf(request);
    if (id === undefined) await reply.code(401).send({ error: "unauthorized", message: "a valid API key is required" });
    return id;
  };
}

/** A 400 naming what part of the request (`path`, `query`, `body`) was invalid, and each issue. */
export function invalid(reply: FastifyReply, where: string, issues: FieldIssue[]) {
  return reply
    .code(400)
    .send({ error: "invalid_request", message: `invalid ${where}: ${describeIssues(issues)}`, issues });
}
