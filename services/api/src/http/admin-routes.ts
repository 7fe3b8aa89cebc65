import { z } from "zod";
import { Id } from "@runhooks/contracts";
import { createApiKey, createTenant, revokeApiKey, type CreatedApiKey, type Database } from "@runhooks/db";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { issuesOf } from "../rules/rule-input.js";
import { sendError, sendIssues } from "./errors.js";

const NewTenant = z.strictObject({
  name: z.string().min(1, "must not be empty").max(200),
  id: Id.optional(),
});
const NewKey = z.strictObject({ description: z.string().max(200).default("") });

function keyView(key: CreatedApiKey) {
  return { id: key.id, tenant_id: key.tenantId, key: key.key, prefix: key.prefix, description: key.description };
}

/** Tenants and their keys; only the admin key (RUNHOOKS_ADMIN_KEY) reaches these routes. */
export function registerAdminRoutes(app: FastifyInstance, db: Database): void {
  /** Creates a tenant and its first API key; the clear key is in this answer and nowhere else. */
  app.post("/admin/tenants", async (request, reply) => {
    const body = NewTenant.safeParse(request.body ?? {});
    if (!body.success) return sendIssues(reply, "invalid_request", issuesOf(body.error));
    const created = await createTenant(db, body.data);
    if (!created.ok) return sendError(reply, 409, "tenant_exists", "a tenant with this id already exists");
    const key = await createApiKey(db, created.tenant.id, "first key");
    if (!key) throw new Error("a tenant just created has vanished");
    return reply.code(201).send({
      tenant: { id: created.tenant.id, name: created.tenant.name, created_at: created.tenant.createdAt.toISOString() },
      api_key: keyView(key),
    });
  });

  app.post("/admin/tenants/:id/keys", async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const id = Id.safeParse(request.params.id);
    if (!id.success) return sendIssues(reply, "invalid_request", [{ path: "id", message: "must be a UUID" }]);
    const body = NewKey.safeParse(request.body ?? {});
    if (!body.success) return sendIssues(reply, "invalid_request", issuesOf(body.error));
    const key = await createApiKey(db, id.data, body.data.description);
    if (!key) return sendError(reply, 404, "not_found", "no such tenant");
    return reply.code(201).send({ api_key: keyView(key) });
  });

  app.delete("/admin/keys/:id", async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const id = Id.safeParse(request.params.id);
    if (!id.success) return sendIssues(reply, "invalid_request", [{ path: "id", message: "must be a UUID" }]);
    if (!(await revokeApiKey(db, id.data)))
      return sendError(reply, 404, "not_found", "no such key, or it is revoked already");
    return reply.send({ result: "revoked", id: id.data });
  });
}
