export { backfillWindowId } from "./backfill-window-id.js";
export type { BackfillWindowKey } from "./backfill-window-id.js";
export {
  backfillEnd,
  backfillEtaSeconds,
  backfillFloor,
  backfillRestartTime,
  backfillStep,
  createBackfillFold,
} from "./backfill-fold.js";
export type { BackfillFold, BackfillFoldOptions } from "./backfill-fold.js";
