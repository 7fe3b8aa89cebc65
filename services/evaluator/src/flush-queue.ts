/**
 * The flushes of one partition's fold — publish what a cut closed, then commit its checkpoint — run
 * off the fetch loop (DESIGN.md §4), so the next batch is folded while Kafka acknowledges the last.
 *
 * Invariants:
 * - Flushes run one at a time, in the order they were cut: a commit never overtakes the parts of
 *   an earlier cut, and checkpoints are committed in order.
 * - Once a flush fails, no later flush of the queue runs: its commit would skip the failed parts.
 *   `onFailure` hears of it once; the owner then starts the partition over from its checkpoint.
 * - At most `depth` flushes are pending: `push` waits for room, which bounds the closed parts held.
 */
export interface FlushQueue {
  /** Queues a flush; resolves once at most `depth` flushes are pending (including this one). */
  push(flush: () => Promise<void>): Promise<void>;
  /** Resolves once every flush queued so far has settled (never rejects). */
  idle(): Promise<void>;
  readonly pending: number;
  readonly failed: boolean;
}

export function createFlushQueue(depth: number, onFailure: (error: unknown) => void): FlushQueue {
  let tail: Promise<void> = Promise.resolve();
  let pending = 0;
  let failed = false;
  let wake: (() => void) | undefined;

  const run = async (flush: () => Promise<void>): Promise<void> => {
    try {
      if (!failed) await flush();
    } catch (error) {
      failed = true;
      onFailure(error);
    } finally {
      pending--;
      const w = wake;
      wake = undefined;
      w?.();
    }
  };

  return {
    async push(flush) {
      pending++;
      tail = tail.then(() => run(flush));
      while (pending > depth) await new Promise<void>((resolve) => (wake = resolve));
    },
    idle: () => tail,
    get pending() {
      return pending;
    },
    get failed() {
      return failed;
    },
  };
}
