/**
 * What a group consumer that kafkajs will not restart by itself should do. kafkajs restarts after
 * errors it marks retriable; a rebalance that races a fetch (the runner rejoins inside its retrier and
 * the broker answers that the generation or the member is gone) reaches the crash handler wrapped as
 * non-retriable. Losing the membership is not a fault of the process: a consumer that joins the group
 * afresh is the answer. Anything else (authorization, an unknown topic, a bug) is fatal.
 */
export type CrashVerdict = { readonly kind: "rejoin"; readonly cause: string } | { readonly kind: "fatal" };

/** Broker error types that mean "this member's place in the group is gone; join again". */
const MEMBERSHIP_LOST = new Set([
  "ILLEGAL_GENERATION",
  "UNKNOWN_MEMBER_ID",
  "REBALANCE_IN_PROGRESS",
  "NOT_COORDINATOR",
  "NOT_COORDINATOR_FOR_GROUP",
  "COORDINATOR_NOT_AVAILABLE",
  "GROUP_COORDINATOR_NOT_AVAILABLE",
  "COORDINATOR_LOAD_IN_PROGRESS",
  "GROUP_LOAD_IN_PROGRESS",
]);

/** Causes are followed this deep at most (a cycle in `cause` must not hang the crash handler). */
const MAX_CAUSE_DEPTH = 8;

/** The verdict for a crash kafkajs does not restart from, by the broker error type in its cause chain. */
export function crashVerdict(error: unknown): CrashVerdict {
  let current: unknown = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && typeof current === "object" && current !== null; depth++) {
    const type = (current as { type?: unknown }).type;
    if (typeof type === "string" && MEMBERSHIP_LOST.has(type)) return { kind: "rejoin", cause: type };
    const c = current as { cause?: unknown; originalError?: unknown };
    current = c.cause ?? c.originalError;
  }
  return { kind: "fatal" };
}
