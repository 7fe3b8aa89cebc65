import type { RuleBook, StreamInput, WindowSpec } from "@runhooks/rules";
import type { KafkaMessage } from "kafkajs";
import type { RunLimits } from "./decode.js";
import { isTick } from "./headers.js";
import { judgeRun, type Judgement } from "./judge.js";
import { TRACE_CLASS, createHeldRuns, lifetimeClassOf } from "./held-runs.js";

/**
 * What a runs-topic message is: a tick (it only moves time), a dead letter, a run that has not ended,
 * or a run the rules matched or did not (`judgeRun`).
 */
export type MessageClass = { readonly kind: "tick" } | Judgement;

const TICK: MessageClass = Object.freeze({ kind: "tick" });

/**
 * Classifies a message against the rules in force at `time`; never throws (see `judgeRun`).
 * `traceOnly`: only the trace-aware rules' verdicts are wanted (a restart's trace prefix).
 */
export function classifyMessage(
  message: Pick<KafkaMessage, "headers" | "value">,
  limits: RunLimits,
  book: RuleBook,
  time: number,
  traceOnly = false,
): MessageClass {
  if (isTick(message.headers)) return TICK;
  return judgeRun(message.value, limits, book, time, traceOnly);
}

const NO_MATCHES: readonly WindowSpec[] = Object.freeze([]);
/** The copies of the runs windows hold (held-runs.ts), for the whole process like Node's buffer pool. */
const HELD = createHeldRuns();

/** How long a matched run is held: its trace candidates' class, else its longest window's. */
function heldClass(matches: readonly WindowSpec[], candidate: boolean): number {
  if (candidate) return TRACE_CLASS;
  let seconds = 0;
  for (const m of matches) if (m.seconds > seconds) seconds = m.seconds;
  return lifetimeClassOf(seconds);
}
/** Never read: a run that matched nothing and is no candidate only tells its trace facts. */
const UNREAD = new Uint8Array(0);

/**
 * What the fold makes of a classified message: a matched run joins its windows, a run trace-aware
 * rules spoke of goes to its trace; anything else only moves time. The run's bytes are copied only
 * when it may join a window. `traceOnly`: its matches are left out (a restart's trace prefix, where
 * they are partial and join no window).
 */
export function foldInputOf(
  c: MessageClass,
  offset: number,
  time: number,
  value: Buffer | null,
  traceOnly = false,
): StreamInput {
  if ((c.kind !== "matched" && c.kind !== "not_matched") || value === null) return { kind: "time", offset, time };
  const trace = c.trace;
  const matches = c.kind === "matched" && !traceOnly ? c.matches : NO_MATCHES;
  if (matches.length === 0 && trace === undefined) return { kind: "time", offset, time };
  const candidate = trace !== undefined && trace.verdicts.some((v) => v.candidate);
  const json = matches.length > 0 || candidate ? HELD.copy(value, heldClass(matches, candidate)) : UNREAD;
  return { kind: "run", offset, time, run: { runId: c.run.id, json }, matches, trace };
}
