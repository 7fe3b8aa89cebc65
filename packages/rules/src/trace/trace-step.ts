import type { FoldJoin } from "../window/index.js";
import {
  enforceLimits,
  expireTraces,
  openTrace,
  schedule,
  settle,
  type Candidate,
  type OpenTrace,
  type RuleFacts,
  type Settlement,
  type TraceState,
} from "./trace-state.js";
import type { TraceInput, TraceSpec } from "./trace-verdict.js";

/**
 * One run through the trace fold (DESIGN.md §4, trace-aware rules). Pure: a function of the state and
 * the input, time passed in. Invariants:
 * - A candidate joins as soon as the facts remembered settle it: the root passed the trace filter
 *   (when its version has one) and a run satisfied the tree filter (when it has one).
 * - It is dropped as soon as a remembered root settles it the other way: the root failed the trace
 *   filter, or came with no run satisfying the tree filter remembered; or when its horizon passes.
 *   While the root is remembered nothing waits: later runs of the trace are decided at once.
 * - Nothing is decided twice: a settled candidate is never looked at again, whatever comes later.
 */

/** What the facts remembered at `now` make of a candidate of `spec`: join, drop (why), or wait. */
export function decide(f: RuleFacts | undefined, spec: TraceSpec, now: number): "join" | "wait" | Settlement {
  const rootKnown = f !== undefined && f.root !== undefined && f.rootUntil > now;
  const treeKnown = f !== undefined && f.treeUntil > now;
  const rootOk = !spec.needsRoot || (rootKnown && f.root === true);
  if (rootOk && (!spec.needsTree || treeKnown)) return "join";
  if (!rootKnown) return "wait";
  return spec.needsRoot && f.root !== true ? "root_failed" : "no_tree";
}

const NO_JOINS: readonly FoldJoin[] = Object.freeze([]);

/** Records what the run tells each rule about its trace; true when it told anything. */
function learn(s: TraceState, t: () => OpenTrace, input: TraceInput, now: number): boolean {
  let learnt = false;
  for (const v of input.verdicts) {
    if (!v.tree && v.root === undefined) continue;
    const trace = t();
    const ruleId = v.spec.window.ruleId;
    let f = trace.facts.get(ruleId);
    if (f === undefined) {
      f = { treeUntil: Number.NEGATIVE_INFINITY, root: undefined, rootUntil: Number.NEGATIVE_INFINITY };
      trace.facts.set(ruleId, f);
    }
    const until = now + v.spec.horizonMs;
    if (v.tree) f.treeUntil = Math.max(f.treeUntil, until);
    if (v.root !== undefined) {
      f.root = v.root;
      f.rootUntil = until;
    }
    schedule(s, trace, until);
    learnt = true;
  }
  return learnt;
}

/** Settles what the trace's waiting candidates can now be settled by, in the order they were read. */
function settleWaiting(s: TraceState, t: OpenTrace, now: number, joins: FoldJoin[]): void {
  const waiting: Candidate[] = [];
  for (const c of t.candidates) {
    const run = c.run;
    if (run === undefined) continue;
    const how = decide(t.facts.get(c.spec.window.ruleId), c.spec, now);
    if (how === "wait") waiting.push(c);
    else {
      if (how === "join") joins.push({ run, spec: c.spec.window });
      settle(s, c, how === "join" ? "joined" : how, now);
    }
  }
  t.candidates = waiting;
}

/**
 * Folds one run of the trace `input.key`, read at offset `offset` when the stream time was `now`:
 * expires what the horizon passed, learns the run's facts, settles the trace's waiting candidates,
 * then decides the run's own candidacies (held when its trace cannot settle them yet). Returns the
 * runs that join their windows now, held ones first in the order they were read, then this one.
 */
export function traceStep(
  s: TraceState,
  now: number,
  offset: number,
  run: { readonly runId: string; readonly json: Uint8Array },
  input: TraceInput,
): readonly FoldJoin[] {
  expireTraces(s, now);
  let trace = s.open.get(input.key);
  const t = () => (trace ??= openTrace(s, input.key));
  let joins: FoldJoin[] | undefined;
  if (learn(s, t, input, now) && trace!.candidates.length > 0) settleWaiting(s, trace!, now, (joins ??= []));
  for (const v of input.verdicts) {
    if (!v.candidate) continue;
    const held = { offset, runId: run.runId, json: run.json };
    const how = decide(trace?.facts.get(v.spec.window.ruleId), v.spec, now);
    if (how === "join") (joins ??= []).push({ run: held, spec: v.spec.window });
    if (how !== "wait") {
      s.onSettle?.(
        { offset, spec: v.spec, expiresAt: now + v.spec.horizonMs, run: held },
        how === "join" ? "joined" : how,
        now,
      );
      continue;
    }
    const c: Candidate = { offset, spec: v.spec, expiresAt: now + v.spec.horizonMs, run: held };
    t().candidates.push(c);
    s.queue.push(c);
    s.heldBytes += held.json.byteLength;
    s.held++;
    schedule(s, trace!, c.expiresAt);
  }
  enforceLimits(s, now);
  return joins ?? NO_JOINS;
}
