import { Run, formatPath, isParsedRun, isParsedRunPatch } from "@runhooks/contracts";
import { MAX_PROJECT_NAME_LENGTH } from "@runhooks/rules";
import { copyObject, isObject } from "./json-object.js";
import type { Issue, RunOp } from "./run-ops.js";

/** The SDKs send times as epoch milliseconds (`Date.now()`) as well as ISO strings. */
const TIME_FIELDS = ["start_time", "end_time", "first_token_time"] as const;

/**
 * An update may carry any subset of the run's fields, each valid where present. The fast checks
 * (isParsedRun, isParsedRunPatch) decide; zod runs only to name the fields of a refused one.
 */
const RunPatch = Run.partial();

function issuesOf(op: RunOp, error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): Issue[] {
  return error.issues.map((i) => ({ part: op.source, path: formatPath(i.path), message: i.message }));
}

/**
 * One operation as runhooks stores it: the id its part (or URL) names, times as ISO-8601 UTC, and the
 * tenant of the API key — whatever the body says. A create must be a valid `Run` (short of its end);
 * an update, valid in every field it carries.
 */
export function normalizeOp(op: RunOp, tenantId: string): { ok: true; op: RunOp } | { ok: false; issues: Issue[] } {
  const body = copyObject(op.body);
  const given = body["id"];
  if (given !== undefined && (typeof given !== "string" || given.toLowerCase() !== op.id)) {
    return {
      ok: false,
      issues: [
        {
          part: op.source,
          path: "id",
          message: `does not match the run id ${op.id} the ${op.source === "(body)" ? "URL" : "part name"} gives`,
        },
      ],
    };
  }
  body["id"] = op.id;
  const project = body["session_name"];
  if (
    project !== undefined &&
    project !== null &&
    (typeof project !== "string" || project === "" || project.length > MAX_PROJECT_NAME_LENGTH)
  ) {
    return {
      ok: false,
      issues: [
        {
          part: op.source,
          path: "session_name",
          message: `must be the project's name: a string of 1 to ${MAX_PROJECT_NAME_LENGTH} characters (LANGSMITH_PROJECT)`,
        },
      ],
    };
  }
  for (const field of TIME_FIELDS) {
    const value = body[field];
    if (typeof value === "number") {
      const date = new Date(value);
      if (Number.isNaN(date.getTime()))
        return { ok: false, issues: [{ part: op.source, path: field, message: "not a valid time" }] };
      body[field] = date.toISOString();
    }
  }
  body["tenant_id"] = tenantId;
  if (op.kind === "post") {
    if (!isParsedRun(body)) {
      const result = Run.safeParse(body);
      if (!result.success) return { ok: false, issues: issuesOf(op, result.error) };
    }
  } else if (!isParsedRunPatch(body)) {
    const result = RunPatch.safeParse(body);
    if (!result.success) return { ok: false, issues: issuesOf(op, result.error) };
  }
  return { ok: true, op: { ...op, body } };
}

/** Normalises every operation; refuses all of them if one is invalid. */
export function normalizeOps(
  ops: readonly RunOp[],
  tenantId: string,
): { ok: true; ops: RunOp[] } | { ok: false; issues: Issue[] } {
  const out: RunOp[] = [];
  const issues: Issue[] = [];
  for (const op of ops) {
    const result = normalizeOp(op, tenantId);
    if (result.ok) out.push(result.op);
    else issues.push(...result.issues);
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, ops: out };
}

export { isObject };
