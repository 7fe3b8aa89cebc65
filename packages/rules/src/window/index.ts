export { windowId } from "./window-id.js";
export type { WindowKey } from "./window-id.js";
export {
  MAX_WINDOW_BYTES,
  createFoldState,
  foldStep,
  nextCloseTime,
  noteHeldRun,
  oldestOpenOffset,
  windowKey,
} from "./fold.js";
export type {
  ClosedPart,
  CloseReason,
  FoldInput,
  FoldJoin,
  FoldState,
  NextPiece,
  OpenWindow,
  WindowRun,
  WindowSpec,
} from "./fold.js";
export { MAX_CHECKPOINT_METADATA, checkpointMetadata, decodeCheckpoint, encodeCheckpoint } from "./checkpoint.js";
export type { Checkpoint, SnapshotRef } from "./checkpoint.js";
export { mergedWindowId } from "./merged-window-id.js";
export type { MergedWindowKey } from "./merged-window-id.js";
export { chunkWindow, mergeParts } from "./assemble-merge.js";
export type { MergeablePart, MergedChunk, MergedWindowSpec, PartRun } from "./assemble-merge.js";
export { assembleCommitOffset, assembleStep, createAssembleState, nextCompletionEnd } from "./assemble.js";
export type { AssembleInput, AssembleOutcome, AssemblePart, AssembleState, DuplicatePart } from "./assemble.js";
export {
  assembleCheckpoint,
  decodeAssembleCheckpoint,
  encodeAssembleCheckpoint,
  restoreAssembleState,
} from "./assemble-checkpoint.js";
export type { AssembleCheckpoint } from "./assemble-checkpoint.js";
export { refoldFromTime, refoldOffset, versionsNeededFrom } from "./refold.js";
export { windowPartHead } from "./part-head.js";
