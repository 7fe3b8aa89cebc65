// Windows (DESIGN.md §4): the deterministic fold, window ids, checkpoints.
export * from "./window/index.js";
