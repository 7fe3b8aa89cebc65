import type { Run } from "@runhooks/contracts";

/**
 * What makes runs one trace, and which run is its root (DESIGN.md §4, trace-aware rules).
 *
 * A run's trace is `trace_id`, or its own id when it has none: the key the runs topic is partitioned
 * by (`runKey`), so every run of a trace is read by one fold, in order. Traces are per tenant: runs of
 * another tenant that name the same trace id are another trace.
 */

/** The id a trace-aware rule samples by, and the trace's name within its tenant. */
export function traceIdOf(run: Pick<Run, "id" | "trace_id">): string {
  return run.trace_id ?? run.id;
}

/** The key of the run's trace in a fold: tenant and trace id (one tenant never touches another's traces). */
export function traceKeyOf(run: Pick<Run, "id" | "trace_id" | "tenant_id">): string {
  return `${run.tenant_id}/${traceIdOf(run)}`;
}

/**
 * Whether the run is the root of its trace: `is_root` when the run states it (ingest derives it, as
 * LangSmith does, from the parent); otherwise a run without `parent_run_id` whose `trace_id` is absent
 * or its own id. A run with a parent, or naming another run as its trace, is never the root.
 */
export function isTraceRoot(run: Pick<Run, "id" | "trace_id" | "parent_run_id" | "is_root">): boolean {
  if (typeof run.is_root === "boolean") return run.is_root;
  if (run.parent_run_id != null) return false;
  return run.trace_id == null || run.trace_id === run.id;
}
