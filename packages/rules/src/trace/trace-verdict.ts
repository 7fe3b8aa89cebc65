import type { WindowSpec } from "../window/index.js";

/**
 * What a trace-aware rule version said about one run: the input of the trace fold (trace-fold.ts).
 * The rule book produces these (`matchRun`), one per trace-aware version in force whose gate the run
 * passed, when the run is a candidate, satisfies the tree filter, or is the root.
 */

/** A trace-aware rule version, as the trace fold needs it. */
export interface TraceSpec {
  /** The window a candidate of this version joins once its trace settles it. */
  readonly window: WindowSpec;
  /** How long (stream time, ms) a candidate waits, and a fact this version judged is remembered. */
  readonly horizonMs: number;
  /** The version has a `trace_filter`: its candidates need the trace's root to pass it. */
  readonly needsRoot: boolean;
  /** The version has a `tree_filter`: its candidates need some run of the trace to satisfy it. */
  readonly needsTree: boolean;
}

export interface TraceVerdict {
  readonly spec: TraceSpec;
  /** `filter` holds: the run waits for its trace (or joins at once when the trace already settles it). */
  readonly candidate: boolean;
  /** The run satisfies the version's `tree_filter` (false when the version has none). */
  readonly tree: boolean;
  /** For the trace's root: whether it passes the version's `trace_filter` (true when it has none); undefined for other runs. */
  readonly root: boolean | undefined;
}

/** A run's part in its trace: the trace's key and what the trace-aware rules said of the run. */
export interface TraceInput {
  readonly key: string;
  readonly verdicts: readonly TraceVerdict[];
}

/**
 * How long a trace-aware rule waits for a trace when it names no `trace_horizon_seconds` (the
 * evaluator's RUNHOOKS_TRACE_HORIZON_SECONDS). Agent traces run for minutes, and a candidate normally
 * waits only until its root ends; the horizon bounds the wait for a root that never comes, and a
 * restart refolds twice it (DESIGN.md §4).
 */
export const DEFAULT_TRACE_HORIZON_SECONDS = 300;
