import { isObject, type JsonObject } from "./json-object.js";

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
  const out: JsonObject = { ...base };
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

function count(v: unknown): number | undefined {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : undefined;
}

/** The trace id a dotted order names: its first segment is `<time>Z<root run id>`. */
function traceOfDottedOrder(dotted: unknown): string | undefined {
  if (typeof dotted !== "string") return undefined;
  const first = dotted.split(".", 1)[0] ?? "";
  const z = first.indexOf("Z");
  const id = z < 0 ? "" : first.slice(z + 1);
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id) ? id : undefined;
}

/**
 * What LangSmith fills in when it stores a run, where the client left it out: `status` (from `error`),
 * `trace_id` (the dotted order's root, else the run itself when it has no parent), `is_root`, and the
 * token counts of `usage_metadata` (the SDKs report usage in `outputs.usage_metadata` or
 * `extra.metadata.usage_metadata`: input, output and total tokens).
 */
export function finalizeRun(run: JsonObject): JsonObject {
  const out: JsonObject = { ...run };
  if (out["status"] === undefined || out["status"] === null) {
    out["status"] = typeof out["error"] === "string" && out["error"] !== "" ? "error" : "success";
  }
  if (out["trace_id"] === undefined || out["trace_id"] === null) {
    const trace = traceOfDottedOrder(out["dotted_order"]) ?? (out["parent_run_id"] == null ? out["id"] : undefined);
    if (trace !== undefined) out["trace_id"] = trace;
  }
  if (out["is_root"] === undefined || out["is_root"] === null) out["is_root"] = out["parent_run_id"] == null;
  const outputs = out["outputs"];
  const extra = out["extra"];
  const usage =
    (isObject(outputs) && isObject(outputs["usage_metadata"]) ? outputs["usage_metadata"] : undefined) ??
    (isObject(extra) && isObject(extra["metadata"]) && isObject(extra["metadata"]["usage_metadata"])
      ? extra["metadata"]["usage_metadata"]
      : undefined);
  if (usage !== undefined) {
    const prompt = count(usage["input_tokens"]);
    const completion = count(usage["output_tokens"]);
    const total =
      count(usage["total_tokens"]) ??
      (prompt !== undefined && completion !== undefined ? prompt + completion : undefined);
    if (out["prompt_tokens"] == null && prompt !== undefined) out["prompt_tokens"] = prompt;
    if (out["completion_tokens"] == null && completion !== undefined) out["completion_tokens"] = completion;
    if (out["total_tokens"] == null && total !== undefined) out["total_tokens"] = total;
  }
  return out;
}
