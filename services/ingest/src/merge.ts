import { copyObject, isObject, type JsonObject } from "./json-object.js";
import { firstTokenTimeOf, parentRunIdsOf } from "./run-fields.js";
import { reportedUsage } from "./usage.js";

/**
 * Merging a run's create with its updates, and the fields LangSmith derives when a run is stored.
 * Pure: the same parts always make the same run.
 */

/**
 * `patch` over `base`: fields the patch carries win; `extra` and `extra.metadata` merge key by key.
 * Never mutates its arguments; returns one of them as is when the other is null.
 */
export function mergeRun(base: JsonObject | null, patch: JsonObject | null): JsonObject | null {
  if (base === null) return patch;
  if (patch === null) return base;
  const out = copyObject(base);
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (key === "extra" && isObject(value) && isObject(base["extra"])) {
      const extra: JsonObject = { ...base["extra"], ...value };
      const baseMeta = base["extra"]["metadata"];
      const patchMeta = value["metadata"];
      if (isObject(baseMeta) && isObject(patchMeta)) extra["metadata"] = { ...baseMeta, ...patchMeta };
      out["extra"] = extra;
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** Ended: the evaluator only judges runs with `end_time`. */
export function hasEnded(run: JsonObject | null): boolean {
  return run !== null && typeof run["end_time"] === "string";
}

/** The trace id a dotted order names: its first segment is `<time>Z<root run id>`. */
function traceOfDottedOrder(dotted: unknown): string | undefined {
  if (typeof dotted !== "string") return undefined;
  const first = dotted.split(".", 1)[0] ?? "";
  const z = first.indexOf("Z");
  const id = z < 0 ? "" : first.slice(z + 1);
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id) ? id : undefined;
}

const unset = (v: unknown): boolean => v === undefined || v === null;

/**
 * What LangSmith fills in when it stores a run, where the client left it out (a field the client set,
 * even to a value LangSmith would not derive, is kept): `status` (from `error`), `trace_id` (the dotted
 * order's root, else the run itself when it has no parent), `is_root`, `parent_run_ids`
 * (`parentRunIdsOf`), the token counts the run reports (`reportedUsage`), `first_token_time`
 * (`firstTokenTimeOf`), and `session_id`: the project id ingest resolved for the run, if any. Applied to
 * the merged, complete run: a field the create or any update carries counts.
 */
export function finalizeRun(run: JsonObject, sessionId?: string): JsonObject {
  const out = copyObject(run);
  if (unset(out["status"])) {
    out["status"] = typeof out["error"] === "string" && out["error"] !== "" ? "error" : "success";
  }
  if (unset(out["trace_id"])) {
    const trace = traceOfDottedOrder(out["dotted_order"]) ?? (out["parent_run_id"] == null ? out["id"] : undefined);
    if (trace !== undefined) out["trace_id"] = trace;
  }
  if (unset(out["is_root"])) out["is_root"] = out["parent_run_id"] == null;
  if (unset(out["parent_run_ids"])) {
    const ancestors = parentRunIdsOf(out);
    if (ancestors !== undefined) out["parent_run_ids"] = ancestors;
  }
  if (unset(out["prompt_tokens"]) || unset(out["completion_tokens"]) || unset(out["total_tokens"])) {
    const usage = reportedUsage(out);
    if (usage !== undefined) {
      if (unset(out["prompt_tokens"]) && usage.prompt !== undefined) out["prompt_tokens"] = usage.prompt;
      if (unset(out["completion_tokens"]) && usage.completion !== undefined)
        out["completion_tokens"] = usage.completion;
      if (unset(out["total_tokens"]) && usage.total !== undefined) out["total_tokens"] = usage.total;
    }
  }
  if (unset(out["first_token_time"])) {
    const first = firstTokenTimeOf(out["events"]);
    if (first !== undefined) out["first_token_time"] = first;
  }
  if (sessionId !== undefined && unset(out["session_id"])) out["session_id"] = sessionId;
  return out;
}
