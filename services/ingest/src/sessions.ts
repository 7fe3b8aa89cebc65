import { createProject, deleteProject, getProject, listProjects, updateProject, type Database } from "@runhooks/db";
import type { Logger } from "@runhooks/telemetry";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { sendError, sendIssues } from "./answers.js";
import type { Counters } from "./counters.js";
import { jsonBody } from "./json-body.js";
import type { ProjectCache } from "./projects.js";
import { isGuid, newSession, sessionBody, sessionChanges, sessionsQuery } from "./session-input.js";
import { classifyStoreError } from "./store-errors.js";

export interface SessionRoutesOptions {
  readonly db: Database;
  readonly maxProjectsPerTenant: number;
  readonly maxJsonDepth: number;
  readonly retryAfterSeconds: number;
  readonly counters: Counters;
  readonly log: Logger;
  /** Forgets a deleted project, so that this process records it again when a run names it. */
  readonly projects: ProjectCache;
}

type Query = Record<string, string | string[] | undefined>;

/**
 * LangSmith's tracing projects ("sessions") as the SDKs use them — `readProject`, `hasProject`,
 * `listProjects`, `createProject`, `updateProject`, `deleteProject` — for the API key's tenant only: another tenant's project is not
 * found. The id of a project is derived from its name (`projectId`), so it is the `session_id` every run
 * of it carries.
 */
export function registerSessionRoutes(app: FastifyInstance, o: SessionRoutesOptions): void {
  /** Runs a store query; Postgres unavailable is a 503 with Retry-After, anything else the error handler's. */
  const stored = async (reply: FastifyReply, work: () => Promise<FastifyReply>): Promise<FastifyReply> => {
    try {
      return await work();
    } catch (error) {
      if (classifyStoreError(error) !== "unavailable") throw error;
      o.counters.database_unavailable++;
      o.log("warn", "the project store did not answer", { error: String(error) });
      return reply
        .header("retry-after", String(o.retryAfterSeconds))
        .code(503)
        .send({ error: "database_unavailable", message: "the project store (Postgres) does not answer; retry later" });
    }
  };

  app.get("/sessions", async (request: FastifyRequest<{ Querystring: Query }>, reply) => {
    const query = sessionsQuery(request.query);
    if (!query.ok) return sendIssues(reply, query.issues);
    if (query.none) return reply.send([]);
    return stored(reply, async () => {
      const projects = await listProjects(o.db, request.tenantId, query.filter);
      return reply.send(projects.map(sessionBody));
    });
  });

  /** The project id in the URL, lower-cased; undefined once a 400 is sent. */
  const idOf = (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply): string | undefined => {
    const id = request.params.id;
    if (isGuid(id)) return id.toLowerCase();
    void sendIssues(reply, [{ part: "(url)", path: "id", message: "the project id in the URL must be a UUID" }]);
    return undefined;
  };
  const notFound = (reply: FastifyReply, id: string) =>
    sendError(reply, 404, "not_found", `no project ${id} in this tenant`);

  app.get("/sessions/:id", async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const id = idOf(request, reply);
    if (id === undefined) return reply;
    return stored(reply, async () => {
      const project = await getProject(o.db, request.tenantId, id);
      return project === undefined ? notFound(reply, id) : reply.send(sessionBody(project));
    });
  });

  app.patch("/sessions/:id", async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const id = idOf(request, reply);
    if (id === undefined) return reply;
    const body = jsonBody(Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0), "(body)", o.maxJsonDepth);
    if (!body.ok) return sendIssues(reply, body.issues);
    const input = sessionChanges(request.tenantId, id, body.value);
    if (!input.ok) return sendIssues(reply, input.issues);
    return stored(reply, async () => {
      const project = await updateProject(o.db, request.tenantId, id, input.changes);
      return project === undefined ? notFound(reply, id) : reply.send(sessionBody(project));
    });
  });

  app.delete("/sessions/:id", async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const id = idOf(request, reply);
    if (id === undefined) return reply;
    return stored(reply, async () => {
      if (!(await deleteProject(o.db, request.tenantId, id))) return notFound(reply, id);
      o.projects.forget(id);
      return reply.code(204).send();
    });
  });

  app.post("/sessions", async (request: FastifyRequest<{ Querystring: Query }>, reply) => {
    const body = jsonBody(Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0), "(body)", o.maxJsonDepth);
    if (!body.ok) return sendIssues(reply, body.issues);
    const input = newSession(request.tenantId, body.value);
    if (!input.ok) return sendIssues(reply, input.issues);
    const upsert = request.query["upsert"] === "true";
    return stored(reply, async () => {
      const result = await createProject(o.db, request.tenantId, input.project, {
        upsert,
        limit: o.maxProjectsPerTenant,
      });
      if (!result.ok) {
        return sendError(
          reply,
          403,
          "too_many_projects",
          `this tenant has ${result.count} projects; the limit is ${result.limit} (RUNHOOKS_INGEST_MAX_PROJECTS_PER_TENANT)`,
        );
      }
      if (!result.created && !upsert) {
        return sendError(
          reply,
          409,
          "conflict",
          `a project named ${JSON.stringify(input.project.name)} exists (${result.project.id}): read it with GET /sessions?name=…, or create with ?upsert=true`,
        );
      }
      return reply.code(result.created ? 201 : 200).send(sessionBody(result.project));
    });
  });
}
