import type { Run } from "@runhooks/contracts";
import { parseInstant, secondsBetween } from "./instant.js";
import { READS_ALL_FACTS, READS_HAS_ERROR, READS_LATENCY, READS_METADATA } from "./reads.js";

/** Variables a filter can read besides the run's own fields; they win over same-named fields. */
export const DERIVED_FACTS = ["latency", "metadata", "has_error"] as const;

/**
 * The data a filter sees: the run's fields plus `latency` (seconds from start to end, null while the
 * run has no end), `metadata` (`extra.metadata`, `{}` when absent) and `has_error`. Computed once per
 * run, then shared by every rule of its tenant; the run's values are not copied, only referenced.
 */
export function runFacts(run: Run): Record<string, unknown> {
  return { ...run, latency: latencyOf(run), metadata: metadataOf(run), has_error: hasError(run) };
}

/**
 * The same facts as `runFacts`, written onto the run object itself instead of a copy: for a caller that
 * owns a freshly parsed run and will not use it as a run again (the evaluator keeps the raw JSON for
 * windows). Derived names overwrite same-named fields, as they win in `runFacts` too. `reads`
 * (`derivedFactsRead` of every filter that will see them) limits which derived facts are computed:
 * a filter that cannot read one cannot tell it is missing.
 */
export function attachFacts(run: Run, reads: number = READS_ALL_FACTS): Record<string, unknown> {
  const facts = run as Record<string, unknown>;
  if (reads & READS_LATENCY) facts["latency"] = latencyOf(run);
  if (reads & READS_METADATA) facts["metadata"] = metadataOf(run);
  if (reads & READS_HAS_ERROR) facts["has_error"] = hasError(run);
  return facts;
}

function latencyOf(run: Run): number | null {
  if (run.end_time === null || run.end_time === undefined) return null;
  const start = parseInstant(run.start_time);
  const end = parseInstant(run.end_time);
  return start === undefined || end === undefined ? null : secondsBetween(start, end);
}

function metadataOf(run: Run): unknown {
  const metadata = run.extra?.metadata;
  return metadata === null || metadata === undefined ? {} : metadata;
}

function hasError(run: Run): boolean {
  return (typeof run.error === "string" && run.error !== "") || run.status === "error";
}
