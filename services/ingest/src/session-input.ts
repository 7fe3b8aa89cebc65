import type { NewProject, Project, ProjectChanges, ProjectFilter } from "@runhooks/db";
import { MAX_PROJECT_NAME_LENGTH, projectId } from "@runhooks/rules";
import { isObject, type JsonObject } from "./json-object.js";
import type { Issue } from "./run-ops.js";

/**
 * LangSmith's `/sessions` (tracing projects) as the SDKs call it, read into runhooks' terms and
 * answered in LangSmith's shape. Pure.
 */

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Projects per `GET /sessions` page: the SDKs page with `limit=100`. */
export const MAX_SESSIONS_PAGE = 100;

/** A project as LangSmith answers it (`TracerSession`): the fields the SDKs read, and those it always has. */
export function sessionBody(p: Project): Record<string, unknown> {
  return {
    id: p.id,
    name: p.name,
    tenant_id: p.tenantId,
    start_time: p.createdAt.toISOString(),
    end_time: null,
    description: p.description,
    extra: p.extra,
    reference_dataset_id: null,
    default_dataset_id: null,
  };
}

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

type Query = Record<string, string | string[] | undefined>;

const issue = (path: string, message: string): Issue => ({ part: "(query)", path, message });

/** One value of a query parameter: the last when it is repeated. */
function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.at(-1) : value;
}

function wholeNumber(raw: string | undefined, fallback: number, min: number, max: number): number | undefined {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  return raw.trim() !== "" && Number.isInteger(n) && n >= min && n <= max ? n : undefined;
}

/**
 * `GET /sessions`' query: `name`, `name_contains`, `id` (repeated), `metadata` (JSON), `limit` (1–100,
 * default 100), `offset`. `reference_dataset` names a dataset, which no runhooks project has: `none`
 * is true and nothing is listed. Other parameters the SDKs send (`include_stats`, `reference_free`,
 * `dataset_version`, `sort_by`…) change nothing here and are ignored.
 */
export function sessionsQuery(
  query: Query,
): { ok: true; filter: ProjectFilter; none: boolean } | { ok: false; issues: Issue[] } {
  const issues: Issue[] = [];
  const limit = wholeNumber(single(query["limit"]), MAX_SESSIONS_PAGE, 1, MAX_SESSIONS_PAGE);
  if (limit === undefined) issues.push(issue("limit", `must be a whole number from 1 to ${MAX_SESSIONS_PAGE}`));
  const offset = wholeNumber(single(query["offset"]), 0, 0, Number.MAX_SAFE_INTEGER);
  if (offset === undefined) issues.push(issue("offset", "must be a whole number, 0 or more"));
  const rawIds = query["id"];
  const ids = rawIds === undefined ? undefined : Array.isArray(rawIds) ? rawIds : [rawIds];
  if (ids !== undefined && !ids.every(isGuid)) issues.push(issue("id", "every id must be a UUID"));
  let metadata: JsonObject | undefined;
  const rawMetadata = single(query["metadata"]);
  if (rawMetadata !== undefined) {
    try {
      const parsed = JSON.parse(rawMetadata) as unknown;
      if (isObject(parsed)) metadata = parsed;
    } catch {
      // Reported below.
    }
    if (metadata === undefined) issues.push(issue("metadata", 'must be a JSON object, e.g. {"team":"ml"}'));
  }
  if (issues.length > 0) return { ok: false, issues };
  const filter: ProjectFilter = {
    name: single(query["name"]),
    nameContains: single(query["name_contains"]),
    ids: ids?.map((id) => id.toLowerCase()),
    metadata,
    limit: limit!,
    offset: offset!,
  };
  return { ok: true, filter, none: query["reference_dataset"] !== undefined };
}

/**
 * `POST /sessions`' body (the SDK's `createProject`): `name` (required), `description`, `extra`. The id
 * is the one derived from the name; a body giving another is refused, as is one naming a reference
 * dataset (runhooks has no datasets). Other fields are ignored.
 */
export function newSession(
  tenantId: string,
  body: unknown,
): { ok: true; project: NewProject } | { ok: false; issues: Issue[] } {
  const part = "(body)";
  if (!isObject(body)) return { ok: false, issues: [{ part, path: "(root)", message: "must be a JSON object" }] };
  const name = body["name"];
  if (typeof name !== "string" || name === "" || name.length > MAX_PROJECT_NAME_LENGTH) {
    return {
      ok: false,
      issues: [
        {
          part,
          path: "name",
          message: `required: the project's name, a string of 1 to ${MAX_PROJECT_NAME_LENGTH} characters`,
        },
      ],
    };
  }
  const id = projectId(tenantId, name);
  const issues: Issue[] = [];
  const description = body["description"] ?? null;
  if (description !== null && typeof description !== "string")
    issues.push({ part, path: "description", message: "must be a string" });
  const extra = body["extra"] ?? null;
  if (extra !== null && !isObject(extra)) issues.push({ part, path: "extra", message: "must be a JSON object" });
  const given = body["id"];
  if (given != null && (typeof given !== "string" || given.toLowerCase() !== id)) {
    issues.push({
      part,
      path: "id",
      message: `a project's id is derived from its name (${id} for this name in this tenant): leave id out`,
    });
  }
  if (body["reference_dataset_id"] != null) {
    issues.push({
      part,
      path: "reference_dataset_id",
      message: "runhooks has no datasets: a project cannot name a reference dataset; leave it out",
    });
  }
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    project: { id, name, description: description as string | null, extra: extra as JsonObject | null },
  };
}

/**
 * `PATCH /sessions/:id`'s body (the SDK's `updateProject`): `description` and `extra` change what is
 * stored (null keeps it; `extra` replaces the stored one). `name` may only repeat the project's own:
 * its id is derived from its name, so a rename would be another project. runhooks does not end
 * projects, so `end_time` must be null or absent.
 */
export function sessionChanges(
  tenantId: string,
  id: string,
  body: unknown,
): { ok: true; changes: ProjectChanges } | { ok: false; issues: Issue[] } {
  const part = "(body)";
  if (!isObject(body)) return { ok: false, issues: [{ part, path: "(root)", message: "must be a JSON object" }] };
  const issues: Issue[] = [];
  const name = body["name"] ?? null;
  if (name !== null && (typeof name !== "string" || projectId(tenantId, name) !== id)) {
    issues.push({
      part,
      path: "name",
      message:
        "a project cannot be renamed (its id is derived from its name): leave name out, or create a project with the new name",
    });
  }
  const description = body["description"] ?? null;
  if (description !== null && typeof description !== "string")
    issues.push({ part, path: "description", message: "must be a string" });
  const extra = body["extra"] ?? null;
  if (extra !== null && !isObject(extra)) issues.push({ part, path: "extra", message: "must be a JSON object" });
  if ((body["end_time"] ?? null) !== null) {
    issues.push({ part, path: "end_time", message: "runhooks does not end projects: leave end_time out" });
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, changes: { description: description as string | null, extra: extra as JsonObject | null } };
}
