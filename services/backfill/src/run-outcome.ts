/** How a run of a backfill ended for this process. */
export type RunOutcome =
  | "succeeded"
  /** Cancelled, or its lease was taken over: this process wrote nothing after it noticed. */
  | "lost"
  | "failed"
  /** The process is stopping; the next owner resumes from the checkpoint. */
  | "stopped";
