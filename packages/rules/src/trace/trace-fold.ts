import {
  createFoldState,
  foldStep,
  oldestOpenOffset,
  type ClosedPart,
  type FoldState,
  type WindowRun,
  type WindowSpec,
} from "../window/index.js";
import { createTraceState, expireTraces, oldestHeldOffset, type TraceLimits, type TraceState } from "./trace-state.js";
import { traceStep } from "./trace-step.js";
import type { TraceInput } from "./trace-verdict.js";

/**
 * One runs partition's whole fold: the trace fold (trace-step.ts) in front of the window fold
 * (fold.ts). A run's trace-aware candidates join windows when their trace settles them, at the
 * stream time they join at; everything else is the window fold's. Deterministic like both.
 */
export interface StreamState {
  readonly fold: FoldState;
  readonly traces: TraceState;
}

export type StreamInput =
  | { readonly kind: "time"; readonly offset: number; readonly time: number }
  | {
      readonly kind: "run";
      readonly offset: number;
      readonly time: number;
      /** Its bytes are read only when it matched a rule or is a trace-aware candidate. */
      readonly run: Omit<WindowRun, "offset" | "time">;
      readonly matches: readonly WindowSpec[];
      readonly trace?: TraceInput | undefined;
    };

export function createStreamState(partition: number, maxBytes?: number, limits?: TraceLimits): StreamState {
  return { fold: createFoldState(partition, maxBytes), traces: createTraceState(limits) };
}

/** Folds one message: expires what the horizon passed, settles its trace, then folds the windows. */
export function streamStep(s: StreamState, input: StreamInput): readonly ClosedPart[] {
  const now = Math.max(s.fold.streamTime, input.time);
  if (input.kind === "time" || input.trace === undefined) {
    expireTraces(s.traces, now);
    return foldStep(s.fold, input);
  }
  const joins = traceStep(s.traces, now, input.offset, input.run, input.trace);
  return foldStep(s.fold, joins.length === 0 ? input : { ...input, joins });
}

/**
 * Folds one message of a restart's *trace prefix* (DESIGN.md §4, restart): the messages read before
 * the stream time S − W, which can no longer touch a window still open at the checkpoint S. Only the
 * trace fold runs, exactly as `streamStep` runs it; what joins here would join a window that ended
 * before S, closed and published below the checkpoint, so the window fold only moves its clock.
 */
export function streamPrefixStep(s: StreamState, input: StreamInput): void {
  const now = Math.max(s.fold.streamTime, input.time);
  if (input.kind === "run" && input.trace !== undefined) traceStep(s.traces, now, input.offset, input.run, input.trace);
  else expireTraces(s.traces, now);
  foldStep(s.fold, { kind: "time", offset: input.offset, time: input.time });
}

/**
 * The lowest offset a restart must still read from the partition's state: the first run of an open
 * window, or of a candidate still waiting for its trace.
 */
export function oldestNeededOffset(s: StreamState): number | undefined {
  const w = oldestOpenOffset(s.fold);
  const c = oldestHeldOffset(s.traces);
  return w === undefined ? c : c === undefined ? w : Math.min(w, c);
}
