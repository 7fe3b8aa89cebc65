/**
 * What an attempt's deadline means when its timer fires. Pure: every time is passed in (monotonic
 * milliseconds). A timer fires late when the process was not running — stopped (SIGSTOP), a long GC
 * pause, CPU throttling, VM steal — and on resume the timers run before the sockets are read: an answer
 * that arrived during the stall waits unread in the socket. So the deadline never decides on its own:
 *
 * - an answer that arrived (a complete response, or — after a stall — its status) always stands;
 * - the verdict is deferred once by one I/O turn, so what is in the socket is read first;
 * - an attempt the process could not watch for its whole deadline (it stalled for longer than the
 *   tolerance during it) cannot be judged fairly: it is `interrupted` (runhooks' fault, retried and not
 *   counted against the round), never a final `timeout`.
 */
export interface DeadlineFacts {
  readonly deadlineMs: number;
  /** When the attempt started (monotonic ms). */
  readonly startedAt: number;
  /** Now (monotonic ms). */
  readonly now: number;
  /** How long the event loop was observed stalled since the attempt started (ms). */
  readonly stalledMs: number;
  /** A complete response arrived: the attempt is settled by it. */
  readonly responded: boolean;
  /** The status line arrived (the body has not completed). */
  readonly statusArrived: boolean;
  /** The verdict was already deferred by an I/O turn: what was in the socket has been read. */
  readonly socketRead: boolean;
}

export type DeadlineVerdict =
  /** The response that arrived settles the attempt; the deadline does nothing. */
  | { readonly kind: "answered" }
  /** The deadline has not passed (a timer may fire a little early): look again after `ms`. */
  | { readonly kind: "wait"; readonly ms: number }
  /** Read what is in the socket first (defer by one I/O turn), then ask again. */
  | { readonly kind: "read_first" }
  /** The process stalled but the status had arrived: judged by the status, as a body broken off is. */
  | { readonly kind: "by_status" }
  /** The endpoint had the whole deadline, watched, and did not answer: final. */
  | { readonly kind: "timeout" }
  /** The process stalled during the attempt: it cannot be judged, it is retried. */
  | { readonly kind: "interrupted"; readonly stalledMs: number };

/**
 * How long a stall may be before the deadline can no longer be trusted: a quarter of the deadline, at
 * least 1 s — ordinary event-loop lag on a loaded machine (tens to a few hundred ms) stays a timeout.
 */
export function stallToleranceMs(deadlineMs: number): number {
  return Math.max(1000, Math.floor(deadlineMs / 4));
}

export function deadlineVerdict(f: DeadlineFacts): DeadlineVerdict {
  if (f.responded) return { kind: "answered" };
  const elapsed = f.now - f.startedAt;
  if (elapsed < f.deadlineMs) return { kind: "wait", ms: Math.ceil(f.deadlineMs - elapsed) };
  if (!f.socketRead) return { kind: "read_first" };
  // The timer itself firing late is a stall too (the stall may not have been observed yet).
  const stalled = Math.max(f.stalledMs, elapsed - f.deadlineMs);
  if (stalled <= stallToleranceMs(f.deadlineMs)) return { kind: "timeout" };
  return f.statusArrived ? { kind: "by_status" } : { kind: "interrupted", stalledMs: Math.round(stalled) };
}
