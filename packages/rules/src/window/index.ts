export { windowId } from "./window-id.js";
export type { WindowKey } from "./window-id.js";
export {
  MAX_WINDOW_BYTES,
  createFoldState,
  foldStep,
  nextCloseTime,
  oldestOpenOffset,
} from "./fold.js";
export type { ClosedWindow, CloseReason, FoldInput, FoldState, WindowRun, WindowSpec } from "./fold.js";
export { decodeCheckpoint, encodeCheckpoint } from "./checkpoint.js";
export type { Checkpoint } from "./checkpoint.js";
export { refoldFromTime, refoldOffset } from "./refold.js";
export { matchWindowHead } from "./match-window.js";
