import { recordProjects, type ProjectRef, type ProjectsOutcome, type Queryable } from "@runhooks/db";
import { projectId, projectNameOf, type ProjectFields } from "@runhooks/rules";
import type { JsonObject } from "./json-object.js";

/**
 * The projects this process knows are recorded in Postgres, so that the runs of a known project cost
 * no query: a project is recorded (`recordProjects`) the first time a request of this process brings
 * a run of it, and remembered once that is durable. Ids are derived (`projectId`), so two processes
 * recording the same project agree, and forgetting one (the cache is bounded) costs one query again.
 */
export class ProjectCache {
  private readonly known = new Set<string>();

  constructor(private readonly maxEntries: number = 100_000) {}

  has(id: string): boolean {
    return this.known.has(id);
  }

  /** A deleted project: the next run naming it records it again. */
  forget(id: string): void {
    this.known.delete(id);
  }

  /** Called once the projects are recorded (their transaction committed). */
  remember(projects: Iterable<ProjectRef>): void {
    for (const p of projects) {
      if (this.known.size >= this.maxEntries) {
        // The oldest entry goes (a Set iterates in insertion order).
        const oldest = this.known.values().next().value;
        if (oldest !== undefined) this.known.delete(oldest);
      }
      this.known.add(p.id);
    }
  }
}

/** The projects a request's runs belong to that this process does not know to be recorded, by id. */
export class RequestProjects {
  readonly unknown = new Map<string, ProjectRef>();
  /** The last project resolved: a request's runs mostly share one. */
  private last: ProjectRef | undefined;

  constructor(
    private readonly cache: ProjectCache,
    private readonly tenantId: string,
  ) {}

  /** The project id `run` is given (undefined: it carries its own `session_id`), noting an unknown project. */
  resolve(run: JsonObject): string | undefined {
    const name = projectNameOf(run as ProjectFields);
    if (name === undefined) return undefined;
    if (this.last?.name === name) return this.last.id;
    const project = { id: projectId(this.tenantId, name), name };
    this.last = project;
    if (!this.cache.has(project.id)) this.unknown.set(project.id, project);
    return project.id;
  }

  /** Records the unknown projects with `q` (the request's transaction, when it has one). */
  record(q: Queryable, limit: number): Promise<ProjectsOutcome> {
    return recordProjects(q, this.tenantId, [...this.unknown.values()], limit);
  }

  /** After the request's writes are durable. */
  remember(): void {
    this.cache.remember(this.unknown.values());
  }
}
