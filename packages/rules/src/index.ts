// Windows (DESIGN.md §4): the deterministic fold, window ids, checkpoints; the assembler of windows
// merged over every runs partition.
export * from "./window/index.js";

// Filters and sampling (DESIGN.md §3): JSON-logic validation, the compiled evaluator, the facts a
// filter sees, the dry-run explanation; deterministic sampling.
export * from "./filter/index.js";
export * from "./sampling.js";

// The rule book (DESIGN.md §3–§4): every rule version by the time it came into force; run matching.
export * from "./rulebook/index.js";

// Projects (DESIGN.md §2): a project's id derived from (tenant, name); a run's resolved session_id.
export * from "./project/index.js";
// LangSmith's timestamps as exact instants (what `latency` is computed from).
export { parseInstant, type Instant } from "./filter/instant.js";
// Trace-aware rules (DESIGN.md §4): what makes a trace and its root, and the trace fold in front of the
// window fold.
export * from "./trace/index.js";
// Backfills (DESIGN.md §4): a rule version over a past range of the runs topic, folded and assembled
// in one process.
export * from "./backfill/index.js";
