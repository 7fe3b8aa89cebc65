export { isTraceRoot, traceIdOf, traceKeyOf } from "./trace-run.js";
export { DEFAULT_TRACE_HORIZON_SECONDS } from "./trace-verdict.js";
export type { TraceInput, TraceSpec, TraceVerdict } from "./trace-verdict.js";
export { DEFAULT_TRACE_LIMITS, createTraceState, expireTraces, oldestHeldOffset } from "./trace-state.js";
export type { Candidate, HeldRun, Settlement, TraceLimits, TraceState } from "./trace-state.js";
export { decide, traceStep } from "./trace-step.js";
export { createStreamState, oldestNeededOffset, streamPrefixStep, streamStep } from "./trace-fold.js";
export type { StreamInput, StreamState } from "./trace-fold.js";
