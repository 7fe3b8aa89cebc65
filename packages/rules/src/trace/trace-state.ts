import type { TraceSpec } from "./trace-verdict.js";
import { popWake, pushWake, type Wake } from "./trace-wakes.js";

/**
 * What the trace fold holds per runs partition (DESIGN.md §4, trace-aware rules): per open trace, the
 * candidates still waiting and, per rule, the facts its pending filters need — never the trace's
 * other runs. Everything held lives for the horizon of the version that judged it, in stream time:
 * a candidate read at t waits while the stream time is below t + H, a fact is remembered as long.
 */

/** A candidate's run: its bytes as read from the log (shared with the windows it joins). */
export interface HeldRun {
  readonly offset: number;
  readonly runId: string;
  readonly json: Uint8Array;
}

/** Why a candidate left the fold: it joined its window, or was dropped for one of the other reasons. */
export type Settlement = "joined" | "root_failed" | "no_tree" | "horizon" | "evicted";

export interface Candidate {
  readonly offset: number;
  readonly spec: TraceSpec;
  /** The stream time it waits until: its read time plus its version's horizon. */
  readonly expiresAt: number;
  /** Cleared once settled: a dropped candidate's bytes are not kept. */
  run: HeldRun | undefined;
}

/** What a rule knows of a trace; each fact is forgotten when the stream time reaches its `until`. */
export interface RuleFacts {
  /** Until when a run satisfying the rule's tree filter is remembered (-Infinity: none). */
  treeUntil: number;
  /** The last root read: whether it passed the trace filter (undefined: none remembered). */
  root: boolean | undefined;
  rootUntil: number;
}

export interface OpenTrace {
  readonly key: string;
  /** By rule id: facts are the rule's, whichever of its versions judged them. */
  readonly facts: Map<string, RuleFacts>;
  /** Candidates still waiting, in the order they were read. */
  candidates: Candidate[];
  /** The stream time of the trace's scheduled wake (Infinity: none). */
  wakeAt: number;
  /**
   * The sequence number of that wake: the one entry of the heap that stands for the trace (others
   * naming it are stale), so the heap's order is a function of the open traces (a snapshot restores it).
   */
  wakeSeq: number;
}

/**
 * Bounds on what one partition's trace fold holds. Past either, the traces due soonest are decided
 * early, as if their horizon had passed (`evicted`).
 */
export interface TraceLimits {
  readonly maxTraces: number;
  /** Bytes of the runs of waiting candidates. */
  readonly maxHeldBytes: number;
}

export const DEFAULT_TRACE_LIMITS: TraceLimits = { maxTraces: 100_000, maxHeldBytes: 64 * 1024 * 1024 };

export interface TraceState {
  readonly limits: TraceLimits;
  readonly open: Map<string, OpenTrace>;
  readonly wakes: Wake[];
  seq: number;
  /** Every candidate held, in offset order; settled ones are passed over lazily from `head`. */
  queue: Candidate[];
  head: number;
  heldBytes: number;
  /** Candidates that had to wait for their trace, and traces decided early because the partition
   * held too many: counted for the operator. */
  held: number;
  evicted: number;
  /** Told of every candidate that leaves (the dry run explains runs with it). */
  readonly onSettle: ((c: Candidate, how: Settlement, now: number) => void) | undefined;
}

export function createTraceState(
  limits: TraceLimits = DEFAULT_TRACE_LIMITS,
  onSettle?: (c: Candidate, how: Settlement, now: number) => void,
): TraceState {
  return {
    limits,
    open: new Map(),
    wakes: [],
    seq: 0,
    queue: [],
    head: 0,
    heldBytes: 0,
    held: 0,
    evicted: 0,
    onSettle,
  };
}

export function openTrace(s: TraceState, key: string): OpenTrace {
  let t = s.open.get(key);
  if (t === undefined) {
    t = { key, facts: new Map(), candidates: [], wakeAt: Number.POSITIVE_INFINITY, wakeSeq: -1 };
    s.open.set(key, t);
  }
  return t;
}

/** Makes sure the trace is looked at again by `at`. */
export function schedule(s: TraceState, t: OpenTrace, at: number): void {
  if (at >= t.wakeAt) return;
  t.wakeAt = at;
  t.wakeSeq = s.seq++;
  pushWake(s.wakes, { at, seq: t.wakeSeq, key: t.key });
}

export function settle(s: TraceState, c: Candidate, how: Settlement, now: number): void {
  if (c.run === undefined) return;
  s.heldBytes -= c.run.json.byteLength;
  s.onSettle?.(c, how, now);
  c.run = undefined;
}

/** Forgets what expired by `now`; drops the trace once it holds nothing, else schedules its next wake. */
function clean(s: TraceState, t: OpenTrace, now: number): void {
  let next = Number.POSITIVE_INFINITY;
  const waiting: Candidate[] = [];
  for (const c of t.candidates) {
    if (c.run === undefined) continue;
    if (c.expiresAt <= now) settle(s, c, "horizon", now);
    else {
      waiting.push(c);
      next = Math.min(next, c.expiresAt);
    }
  }
  t.candidates = waiting;
  for (const [ruleId, f] of t.facts) {
    if (f.treeUntil <= now) f.treeUntil = Number.NEGATIVE_INFINITY;
    if (f.rootUntil <= now) f.root = undefined;
    if (f.root === undefined && f.treeUntil === Number.NEGATIVE_INFINITY) {
      t.facts.delete(ruleId);
      continue;
    }
    if (f.treeUntil > now) next = Math.min(next, f.treeUntil);
    if (f.root !== undefined) next = Math.min(next, f.rootUntil);
  }
  t.wakeAt = Number.POSITIVE_INFINITY;
  t.wakeSeq = -1;
  if (t.candidates.length === 0 && t.facts.size === 0) s.open.delete(t.key);
  else schedule(s, t, next);
}

/** Settles every candidate whose horizon passed by `now` and forgets expired facts (drops only). */
export function expireTraces(s: TraceState, now: number): void {
  for (let top = s.wakes[0]; top !== undefined && top.at <= now; top = s.wakes[0]) {
    popWake(s.wakes);
    const t = s.open.get(top.key);
    if (t !== undefined && t.wakeSeq === top.seq) clean(s, t, now);
  }
}

/** Decides the traces due soonest early until the partition is within its limits. */
export function enforceLimits(s: TraceState, now: number): void {
  while (s.open.size > s.limits.maxTraces || s.heldBytes > s.limits.maxHeldBytes) {
    const top = popWake(s.wakes);
    if (top === undefined) return;
    const t = s.open.get(top.key);
    if (t === undefined || t.wakeSeq !== top.seq) continue;
    for (const c of t.candidates) settle(s, c, "evicted", now);
    s.open.delete(t.key);
    s.evicted++;
  }
}

/** The offset of the first candidate still waiting: a commit must not pass it (a restart reads it again). */
export function oldestHeldOffset(s: TraceState): number | undefined {
  while (s.head < s.queue.length && s.queue[s.head]!.run === undefined) s.head++;
  if (s.head > 1024 && s.head * 2 > s.queue.length) {
    s.queue = s.queue.slice(s.head);
    s.head = 0;
  }
  return s.queue[s.head]?.offset;
}
