import type { Run } from "@runhooks/contracts";
import { v5 as uuidv5 } from "uuid";

/**
 * Projects (LangSmith's tracing projects, "sessions"): a tenant's runs are grouped by project name,
 * and a project's id is a pure function of (tenant, name), so every component — ingest, the evaluator,
 * the API, a producer writing to Kafka — derives the same id without asking anyone.
 */

/** Fixed namespace of runhooks project ids. Changing it would change every project id: never do. */
export const PROJECT_NAMESPACE = "530d3a50-bfaa-4013-bf96-165e811cbfc4";

/** The project of a run that names none, as in LangSmith (the SDKs' `LANGSMITH_PROJECT` default). */
export const DEFAULT_PROJECT_NAME = "default";

/** The longest project name ingest and the API accept. */
export const MAX_PROJECT_NAME_LENGTH = 1_000;

/** Ids already derived, by `tenant/name`: a stream of runs repeats a handful of projects. */
const memo = new Map<string, string>();
const MEMO_ENTRIES = 4_096;

/**
 * UUIDv5 of `<tenant id, lower case>/<name>` under `PROJECT_NAMESPACE`. The tenant id is a UUID (no
 * `/`), so distinct (tenant, name) pairs never share the input. Names are case-sensitive, as in LangSmith.
 */
export function projectId(tenantId: string, name: string): string {
  const key = `${tenantId.toLowerCase()}/${name}`;
  let id = memo.get(key);
  if (id === undefined) {
    id = uuidv5(key, PROJECT_NAMESPACE);
    // Bounded: when full, start over (the memo only saves hashing, never changes an answer).
    if (memo.size >= MEMO_ENTRIES) memo.clear();
    memo.set(key, id);
  }
  return id;
}

/** The fields of a run that say which project it belongs to. */
export type ProjectFields = Pick<Run, "tenant_id" | "session_id"> & { readonly session_name?: unknown };

/**
 * The project a run is resolved to when it carries no `session_id`: its `session_name` (a non-empty
 * string), else LangSmith's default project. Undefined when the run carries a `session_id`: the
 * producer's id is left as it is.
 */
export function projectOfRun(run: ProjectFields): { readonly id: string; readonly name: string } | undefined {
  const name = projectNameOf(run);
  return name === undefined ? undefined : { id: projectId(run.tenant_id, name), name };
}

/** The name of `projectOfRun`'s project, without deriving its id. */
export function projectNameOf(run: ProjectFields): string | undefined {
  if (run.session_id !== undefined && run.session_id !== null) return undefined;
  const given = run.session_name;
  return typeof given === "string" && given !== "" ? given : DEFAULT_PROJECT_NAME;
}

/**
 * The run with its `session_id` resolved (`projectOfRun`): the run itself when it carries one, else a
 * shallow copy that does. What rules are scoped by, and what filters read as `session_id`, for runs
 * written to Kafka by producers that send only the project's name (ingest sets it on the runs it takes).
 */
export function withSessionId(run: Run): Run {
  const project = projectOfRun(run);
  if (project === undefined) return run;
  // Object.assign, not a spread: the facts are added to the copy next, and V8 gives a spread copy a map
  // of its own, each property added to it costing a new map. A `__proto__` key (an own property of a
  // parsed run) would reach the prototype setter there: such a run is copied by spread.
  const copy: Run = Object.hasOwn(run, "__proto__") ? { ...run } : Object.assign({}, run);
  copy.session_id = project.id;
  return copy;
}
