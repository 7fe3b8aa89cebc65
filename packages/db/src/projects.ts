import { sql, type Queryable, type SQLQuery } from "@databases/pg";

/**
 * Tracing projects (migration `010_projects`), one tenant's at a time: every query names the tenant,
 * so no caller can see another tenant's projects. Ids are derived by the caller (`projectId` in
 * @runhooks/rules) and never generated here.
 */

type JsonObject = Record<string, unknown>;

export interface Project {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly description: string | null;
  readonly extra: JsonObject | null;
  readonly createdAt: Date;
}

export interface ProjectRef {
  readonly id: string;
  readonly name: string;
}

/** Projects a tenant may have; one more is refused (`too_many_projects`). */
export type ProjectsOutcome =
  | { readonly ok: true; readonly created: number }
  | { readonly ok: false; readonly reason: "too_many_projects"; readonly count: number; readonly limit: number };

interface ProjectRow {
  id: string;
  tenant_id: string;
  name: string;
  description: string | null;
  extra: JsonObject | null;
  created_at: Date;
}

const COLUMNS = sql`id, tenant_id, name, description, extra, created_at`;

function toProject(r: ProjectRow): Project {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    description: r.description,
    extra: r.extra,
    createdAt: r.created_at,
  };
}

/**
 * Records the projects of a tenant that are not recorded yet, unless that would take the tenant past
 * `limit` projects (then none is). Concurrent calls may each pass the count and together overshoot
 * the limit by what they add: it bounds a tenant's projects, it does not meter them.
 */
export async function recordProjects(
  q: Queryable,
  tenantId: string,
  projects: readonly ProjectRef[],
  limit: number,
): Promise<ProjectsOutcome> {
  if (projects.length === 0) return { ok: true, created: 0 };
  const ids = projects.map((p) => p.id);
  const known = (await q.query(sql`
    SELECT id FROM projects WHERE tenant_id = ${tenantId} AND id = ANY(${ids}::uuid[])`)) as { id: string }[];
  const have = new Set(known.map((r) => r.id));
  const fresh = projects.filter((p) => !have.has(p.id));
  if (fresh.length === 0) return { ok: true, created: 0 };
  const count = await countProjects(q, tenantId);
  if (count + fresh.length > limit) return { ok: false, reason: "too_many_projects", count, limit };
  const rows = (await q.query(sql`
    INSERT INTO projects (id, tenant_id, name)
    SELECT p.id, ${tenantId}, p.name FROM unnest(${fresh.map((p) => p.id)}::uuid[], ${fresh.map((p) => p.name)}::text[]) AS p(id, name)
    ON CONFLICT DO NOTHING
    RETURNING id`)) as unknown[];
  return { ok: true, created: rows.length };
}

async function countProjects(q: Queryable, tenantId: string): Promise<number> {
  const rows = (await q.query(sql`SELECT count(*) AS n FROM projects WHERE tenant_id = ${tenantId}`)) as {
    n: bigint | number;
  }[];
  return Number(rows[0]?.n ?? 0);
}

export interface NewProject extends ProjectRef {
  readonly description: string | null;
  readonly extra: JsonObject | null;
}

export type CreateProjectResult =
  { readonly ok: true; readonly created: boolean; readonly project: Project } | Extract<ProjectsOutcome, { ok: false }>;

/**
 * Creates a project; when it exists, answers it as stored (`created: false`), or with `upsert` sets
 * the description given and merges the extra given into its own, key by key (null keeps theirs).
 */
export async function createProject(
  q: Queryable,
  tenantId: string,
  project: NewProject,
  options: { readonly upsert: boolean; readonly limit: number },
): Promise<CreateProjectResult> {
  const recorded = await recordProjects(q, tenantId, [project], options.limit);
  if (!recorded.ok) return recorded;
  const extra = project.extra === null ? null : JSON.stringify(project.extra);
  const rows = (await q.query(
    recorded.created === 1 || options.upsert
      ? sql`
    UPDATE projects SET description = coalesce(${project.description}, description),
      extra = CASE WHEN ${extra}::jsonb IS NULL THEN extra ELSE coalesce(extra, '{}'::jsonb) || ${extra}::jsonb END
    WHERE tenant_id = ${tenantId} AND id = ${project.id}
    RETURNING ${COLUMNS}`
      : sql`SELECT ${COLUMNS} FROM projects WHERE tenant_id = ${tenantId} AND id = ${project.id}`,
  )) as ProjectRow[];
  const row = rows[0];
  // Recorded above in this tenant: only a concurrent delete of the tenant could remove it.
  if (row === undefined) throw new Error(`project ${project.id} vanished while it was created`);
  return { ok: true, created: recorded.created === 1, project: toProject(row) };
}

export async function getProject(q: Queryable, tenantId: string, id: string): Promise<Project | undefined> {
  const rows = (await q.query(
    sql`SELECT ${COLUMNS} FROM projects WHERE tenant_id = ${tenantId} AND id = ${id}`,
  )) as ProjectRow[];
  return rows[0] === undefined ? undefined : toProject(rows[0]);
}

/** What `PATCH /sessions/:id` may change: null keeps the stored value. A project's name never changes (its id is derived from it). */
export interface ProjectChanges {
  readonly description: string | null;
  /** Replaces the stored extra as a whole, as LangSmith does. */
  readonly extra: JsonObject | null;
}

/** Changes a tenant's project; undefined when the tenant has no project with this id. */
export async function updateProject(
  q: Queryable,
  tenantId: string,
  id: string,
  changes: ProjectChanges,
): Promise<Project | undefined> {
  const extra = changes.extra === null ? null : JSON.stringify(changes.extra);
  const rows = (await q.query(sql`
    UPDATE projects SET description = coalesce(${changes.description}, description),
      extra = coalesce(${extra}::jsonb, extra)
    WHERE tenant_id = ${tenantId} AND id = ${id}
    RETURNING ${COLUMNS}`)) as ProjectRow[];
  return rows[0] === undefined ? undefined : toProject(rows[0]);
}

/**
 * Removes a tenant's project record; false when there was none. Runs already appended keep their
 * `session_id` (the log is append-only) and a run naming the project again records it again, with the
 * same id.
 */
export async function deleteProject(q: Queryable, tenantId: string, id: string): Promise<boolean> {
  const rows = (await q.query(
    sql`DELETE FROM projects WHERE tenant_id = ${tenantId} AND id = ${id} RETURNING id`,
  )) as unknown[];
  return rows.length > 0;
}

export interface ProjectFilter {
  /** Exactly this name. */
  readonly name?: string | undefined;
  /** Names containing this text, in any case. */
  readonly nameContains?: string | undefined;
  readonly ids?: readonly string[] | undefined;
  /** Projects whose `extra.metadata` holds these keys and values. */
  readonly metadata?: JsonObject | undefined;
  readonly limit: number;
  readonly offset: number;
}

/** A tenant's projects, newest first. */
export async function listProjects(q: Queryable, tenantId: string, filter: ProjectFilter): Promise<Project[]> {
  const where: SQLQuery[] = [sql`tenant_id = ${tenantId}`];
  if (filter.name !== undefined) where.push(sql`name = ${filter.name}`);
  if (filter.nameContains !== undefined) where.push(sql`strpos(lower(name), lower(${filter.nameContains})) > 0`);
  if (filter.ids !== undefined) where.push(sql`id = ANY(${filter.ids}::uuid[])`);
  if (filter.metadata !== undefined)
    where.push(sql`coalesce(extra -> 'metadata', '{}'::jsonb) @> ${JSON.stringify(filter.metadata)}::jsonb`);
  const rows = (await q.query(sql`
    SELECT ${COLUMNS} FROM projects WHERE ${sql.join(where, sql` AND `)}
    ORDER BY created_at DESC, id LIMIT ${filter.limit} OFFSET ${filter.offset}`)) as ProjectRow[];
  return rows.map(toProject);
}

/** The names of those of a tenant's projects with these ids (a rule's `session_id` → `session_name`). */
export async function projectNames(
  q: Queryable,
  tenantId: string,
  ids: readonly string[],
): Promise<ReadonlyMap<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = (await q.query(
    sql`SELECT id, name FROM projects WHERE tenant_id = ${tenantId} AND id = ANY(${ids}::uuid[])`,
  )) as { id: string; name: string }[];
  return new Map(rows.map((row) => [row.id, row.name]));
}
