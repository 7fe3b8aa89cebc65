import type { FieldIssue } from "@runhooks/contracts";
import { listProjects, type Database } from "@runhooks/db";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { sendIssues } from "./errors.js";

/** Projects per answer: `?limit=` (default 100, at most 1,000). */
export const PROJECTS_LIMIT_DEFAULT = 100;
export const PROJECTS_LIMIT_MAX = 1_000;

interface ProjectsRequest {
  Querystring: { limit?: string; offset?: string; name_contains?: string };
}

function wholeNumber(raw: string | undefined, fallback: number, min: number, max: number): number | undefined {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  return raw.trim() !== "" && Number.isInteger(n) && n >= min && n <= max ? n : undefined;
}

/**
 * `GET /projects`: the tenant's tracing projects (LangSmith's "sessions"), newest first: the id every
 * run of a project carries as `session_id` (what a rule's `session_id` names), its name and when it
 * was created. Projects come into being with their first run through ingest (or the SDK's
 * `createProject`); `?name_contains=`, `?limit=`, `?offset=`.
 */
export function registerProjectRoutes(app: FastifyInstance, db: Database): void {
  app.get("/projects", async (request: FastifyRequest<ProjectsRequest>, reply: FastifyReply) => {
    const { query } = request;
    const issues: FieldIssue[] = [];
    const limit = wholeNumber(query.limit, PROJECTS_LIMIT_DEFAULT, 1, PROJECTS_LIMIT_MAX);
    if (limit === undefined)
      issues.push({ path: "limit", message: `must be a whole number from 1 to ${PROJECTS_LIMIT_MAX}` });
    const offset = wholeNumber(query.offset, 0, 0, Number.MAX_SAFE_INTEGER);
    if (offset === undefined) issues.push({ path: "offset", message: "must be a whole number, 0 or more" });
    if (issues.length > 0) return sendIssues(reply, "invalid_request", issues);
    const projects = await listProjects(db, request.tenantId, {
      nameContains: query.name_contains,
      limit: limit!,
      offset: offset!,
    });
    return reply.send({
      projects: projects.map((p) => ({
        id: p.id,
        name: p.name,
        description: p.description,
        created_at: p.createdAt.toISOString(),
      })),
    });
  });
}
